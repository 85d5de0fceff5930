import { zodResolver } from '@hookform/resolvers/zod';
import { Alert, Button, Paper, PasswordInput, Stack, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { useSession } from '../../auth.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';

export const PasswordForm = z
  .object({ password: z.string().min(10, 'At least 10 characters'), confirm: z.string() })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: 'The passwords differ' });

/** Changes the login password; the API then revokes the user's login tokens, so the user signs in again. */
export function PasswordPage() {
  const api = useApi();
  const session = useSession();
  const form = useForm({ resolver: zodResolver(PasswordForm), defaultValues: { password: '', confirm: '' } });
  const change = useMutation({
    mutationFn: async (v: z.infer<typeof PasswordForm>) =>
      unwrap(
        await api.PATCH('/api/v1/users/{id}', {
          params: { path: { id: session.me?.userId ?? '' } },
          body: { password: v.password },
        }),
      ),
  });
  return (
    <Paper maw={420} p="lg" withBorder>
      <form onSubmit={form.handleSubmit((v) => change.mutate(v))} noValidate>
        <Stack>
          <Title order={1} size="h2">
            Change password
          </Title>
          <FormAlert error={change.error} />
          {change.isSuccess && (
            <Alert color="green" role="status">
              Password changed. Sign in again with the new password.
              <Button mt="sm" size="xs" onClick={() => session.signOut()}>
                Sign in again
              </Button>
            </Alert>
          )}
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
