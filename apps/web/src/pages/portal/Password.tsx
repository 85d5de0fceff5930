import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Paper, PasswordInput, Stack, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { useSession } from '../../auth.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { textField } from '../../components/fields.ts';

export const PasswordForm = z
  .object({
    current: textField('changeOwnPassword', 'currentPassword', {
      required: 'Enter your current password',
      trim: false,
    }),
    password: textField('changeOwnPassword', 'newPassword', {
      required: 'At least 10 characters',
      trim: false,
    }),
    confirm: z.string(),
  })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: 'The passwords differ' });

/**
 * Changes the login password, which needs the current one. The API then revokes all of the user's sessions
 * (this one too) and API keys, so the page goes straight to the sign-in with a note.
 */
export function PasswordPage() {
  const api = useApi();
  const session = useSession();
  const form = useForm({
    resolver: zodResolver(PasswordForm),
    defaultValues: { current: '', password: '', confirm: '' },
  });
  const change = useMutation({
    mutationFn: async (v: z.infer<typeof PasswordForm>) => {
      const res = await api.POST('/api/v1/auth/password', {
        body: { currentPassword: v.current, newPassword: v.password },
      });
      if (!res.response.ok) unwrap(res);
    },
    // Signed out, the app shows the sign-in page with this note.
    onSuccess: () => session.signOut('Password changed. Sign in with the new password.'),
  });
  return (
    <Paper maw={420} p="lg" withBorder>
      <form onSubmit={form.handleSubmit((v) => change.mutate(v))} noValidate>
        <Stack>
          <Title order={1} size="h2">
            Change password
          </Title>
          <FormAlert error={change.error} />
          <PasswordInput
            label="Current password"
            autoComplete="current-password"
            {...form.register('current')}
            error={form.formState.errors.current?.message}
          />
          <PasswordInput
            label="New password"
            autoComplete="new-password"
            {...form.register('password')}
            error={form.formState.errors.password?.message}
          />
          <PasswordInput
            label="Repeat new password"
            autoComplete="new-password"
            {...form.register('confirm')}
            error={form.formState.errors.confirm?.message}
          />
          <Button type="submit" loading={change.isPending}>
            Change password
          </Button>
        </Stack>
      </form>
    </Paper>
  );
}
