import { zodResolver } from '@hookform/resolvers/zod';
import {
  Alert,
  Button,
  Code,
  Group,
  List,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { useSession } from '../auth.tsx';
import { FormAlert } from '../components/FormAlert.tsx';
import { textField } from '../components/fields.ts';
import { QrCode } from '../components/QrCode.tsx';

export const TotpConfirmForm = z.object({
  code: textField('confirmTwoFactor', 'code', { required: 'Enter the code the app shows' }),
});

export const TotpDisableForm = z.object({
  password: textField('disableTwoFactor', 'password', { required: 'Enter your password', trim: false }),
});

/** Scan, confirm with one code, then keep the recovery codes. */
function Enrol({ onDone }: { onDone: () => void }) {
  const api = useApi();
  const form = useForm({ resolver: zodResolver(TotpConfirmForm), defaultValues: { code: '' } });
  const start = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/auth/two-factor/enrolment')),
  });
  const confirm = useMutation({
    mutationFn: async (v: z.infer<typeof TotpConfirmForm>) =>
      unwrap(await api.POST('/api/v1/auth/two-factor/confirmation', { body: { code: v.code } })),
  });
  if (confirm.data) {
    return (
      <Stack>
        <Alert color="green" role="status" title="Two-factor sign-in is on">
          Keep these recovery codes somewhere safe. Each signs in once without the app; they are not shown
          again.
        </Alert>
        <Code block data-testid="recovery-codes">
          {confirm.data.recoveryCodes.join('\n')}
        </Code>
        <Button onClick={onDone} w="fit-content">
          Done
        </Button>
      </Stack>
    );
  }
  if (!start.data) {
    return (
      <Stack>
        <FormAlert error={start.error} />
        <Button onClick={() => start.mutate()} loading={start.isPending} w="fit-content">
          Set up an authenticator app
        </Button>
      </Stack>
    );
  }
  return (
    <form onSubmit={form.handleSubmit((v) => confirm.mutate(v))} noValidate>
      <Stack>
        <Text>
          Scan this code with your authenticator app (any app for TOTP codes), then enter the code it shows.
        </Text>
        <Group align="flex-start">
          <QrCode text={start.data.otpauthUri} label="QR code for your authenticator app" />
          <Stack gap={4}>
            <Text size="sm">Cannot scan? Enter this key by hand:</Text>
            <Code data-testid="totp-secret">{start.data.secret}</Code>
          </Stack>
        </Group>
        <FormAlert error={confirm.error} />
        <TextInput
          label="Code from the app"
          autoComplete="one-time-code"
          inputMode="numeric"
          {...form.register('code')}
          error={form.formState.errors.code?.message}
          maw={200}
        />
        <Button type="submit" loading={confirm.isPending} w="fit-content">
          Confirm and switch on
        </Button>
      </Stack>
    </form>
  );
}

function Disable({ onDone }: { onDone: () => void }) {
  const api = useApi();
  const form = useForm({ resolver: zodResolver(TotpDisableForm), defaultValues: { password: '' } });
  const off = useMutation({
    mutationFn: async (v: z.infer<typeof TotpDisableForm>) => {
      const res = await api.DELETE('/api/v1/auth/two-factor', { body: { password: v.password } });
      if (!res.response.ok) unwrap(res);
    },
    onSuccess: onDone,
  });
  return (
    <form onSubmit={form.handleSubmit((v) => off.mutate(v))} noValidate>
      <Stack>
        <FormAlert error={off.error} />
        <PasswordInput
          label="Password"
          description="Needed to switch two-factor sign-in off"
          autoComplete="current-password"
          {...form.register('password')}
          error={form.formState.errors.password?.message}
          maw={320}
        />
        <Button type="submit" color="red" variant="light" loading={off.isPending} w="fit-content">
          Switch off
        </Button>
      </Stack>
    </form>
  );
}

/** One's own second factor. Also the only page a user sees who must enrol before anything else. */
export function TwoFactorPage() {
  const api = useApi();
  const session = useSession();
  const queryClient = useQueryClient();
  const state = useQuery({
    queryKey: ['two-factor'],
    queryFn: async () => unwrap(await api.GET('/api/v1/auth/two-factor')),
  });
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: ['two-factor'] });
    await session.signIn();
  };
  return (
    <Paper maw={640} p="lg" withBorder>
      <Stack>
        <Title order={1} size="h2">
          Two-factor sign-in
        </Title>
        {state.data?.required && !state.data.enabled && (
          <Alert color="orange" title="Required for your role">
            Your operator requires an authenticator app for operators and resellers. Set it up to continue.
          </Alert>
        )}
        <List size="sm">
          <List.Item>
            After your password, sign-in asks for a 6-digit code from an app on your phone.
          </List.Item>
          <List.Item>Recovery codes let you in once each if the phone is lost.</List.Item>
        </List>
        {state.data?.enabled ? (
          <>
            <Text>On since {new Date(state.data.enabledAt ?? '').toLocaleString()}.</Text>
            <Disable onDone={refresh} />
          </>
        ) : (
          state.data && <Enrol onDone={refresh} />
        )}
      </Stack>
    </Paper>
  );
}
