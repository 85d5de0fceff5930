import { zodResolver } from '@hookform/resolvers/zod';
import { Alert, Anchor, Button, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { z } from 'zod';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { FormAlert } from '../components/FormAlert.tsx';
import { textField } from '../components/fields.ts';

export const ForgotPasswordForm = z.object({
  email: textField('requestPasswordReset', 'email', {
    required: 'Enter an e-mail address',
    invalid: 'Enter an e-mail address',
  }),
});

export const ResetPasswordForm = z
  .object({
    password: textField('completePasswordReset', 'newPassword', {
      required: 'At least 10 characters',
      trim: false,
    }),
    confirm: z.string(),
  })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: 'The passwords differ' });

/** Asks for a reset link; the answer is the same whether the address has a login or not. */
export function ForgotPasswordPage() {
  const api = useApi();
  const form = useForm({ resolver: zodResolver(ForgotPasswordForm), defaultValues: { email: '' } });
  const ask = useMutation({
    mutationFn: async (v: z.infer<typeof ForgotPasswordForm>) =>
      unwrap(await api.POST('/api/v1/auth/password-reset', { body: { email: v.email } })),
  });
  return (
    <Paper maw={420} mx="auto" mt="xl" p="lg" withBorder>
      <form onSubmit={form.handleSubmit((v) => ask.mutate(v))} noValidate>
        <Stack>
          <Title order={1} size="h2">
            Forgot your password?
          </Title>
          <Text size="sm">We send a link to set a new one. It works once, for 30 minutes.</Text>
          <FormAlert error={ask.error} />
          {ask.data && (
            <Alert color="green" role="status">
              {ask.data.message}
            </Alert>
          )}
          <TextInput
            label="E-mail"
            type="email"
            autoComplete="username"
            required
            {...form.register('email')}
            error={form.formState.errors.email?.message}
          />
          <Button type="submit" loading={ask.isPending}>
            Send the link
          </Button>
          <Anchor component={Link} to="/login" size="sm">
            Back to sign-in
          </Anchor>
        </Stack>
      </form>
    </Paper>
  );
}

/** Where the e-mailed link leads: choose the new password. */
export function ResetPasswordPage() {
  const api = useApi();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const form = useForm({
    resolver: zodResolver(ResetPasswordForm),
    defaultValues: { password: '', confirm: '' },
  });
  const reset = useMutation({
    mutationFn: async (v: z.infer<typeof ResetPasswordForm>) => {
      const res = await api.POST('/api/v1/auth/password-reset/completion', {
        body: { token, newPassword: v.password },
      });
      if (!res.response.ok) unwrap(res);
    },
    onSuccess: () =>
      navigate('/login', {
        replace: true,
        state: { notice: 'Password set. Sign in with the new password.' },
      }),
  });
  const err = form.formState.errors;
  return (
    <Paper maw={420} mx="auto" mt="xl" p="lg" withBorder>
      <form onSubmit={form.handleSubmit((v) => reset.mutate(v))} noValidate>
        <Stack>
          <Title order={1} size="h2">
            Set a new password
          </Title>
          {token === '' && <Alert color="red">This page needs the link from the e-mail.</Alert>}
          <FormAlert error={reset.error} />
          <PasswordInput
            label="New password"
            autoComplete="new-password"
            description="At least 10 characters"
            {...form.register('password')}
            error={err.password?.message}
          />
          <PasswordInput
            label="Repeat new password"
            autoComplete="new-password"
            {...form.register('confirm')}
            error={err.confirm?.message}
          />
          <Button type="submit" loading={reset.isPending} disabled={token === ''}>
            Set password
          </Button>
        </Stack>
      </form>
    </Paper>
  );
}

/** Where the sign-up's e-mail link leads: confirms the address, which switches the phone service on. */
export function VerifyEmailPage() {
  const api = useApi();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const verify = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/signup/verification', { body: { token } })),
  });
  return (
    <Paper maw={460} mx="auto" mt="xl" p="lg" withBorder>
      <Stack>
        <Title order={1} size="h2">
          Confirm your e-mail address
        </Title>
        <FormAlert error={verify.error} />
        {verify.data ? (
          <Alert color="green" role="status">
            {verify.data.email} is confirmed. Your phone service is on.
          </Alert>
        ) : (
          <Button onClick={() => verify.mutate()} loading={verify.isPending} disabled={token === ''}>
            Confirm
          </Button>
        )}
        <Anchor component={Link} to="/login" size="sm">
          Go to sign-in
        </Anchor>
      </Stack>
    </Paper>
  );
}
