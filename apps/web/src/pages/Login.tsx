import { zodResolver } from '@hookform/resolvers/zod';
import { Alert, Anchor, Button, Paper, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link } from 'react-router';
import { z } from 'zod';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { useSession } from '../auth.tsx';
import { textField } from '../components/fields.ts';

const LoginForm = z.object({
  email: textField('login', 'email', {
    required: 'Enter an e-mail address',
    invalid: 'Enter an e-mail address',
  }),
  password: textField('login', 'password', { required: 'Enter your password', trim: false }),
});

export function LoginPage() {
  const api = useApi();
  const session = useSession();
  const [error, setError] = useState<string | null>(null);
  const form = useForm({ resolver: zodResolver(LoginForm), defaultValues: { email: '', password: '' } });
  const onSubmit = form.handleSubmit(async (values) => {
    setError(null);
    try {
      // The answer also sets the session cookie; the token in its body is for scripts, not kept here.
      unwrap(await api.POST('/api/v1/auth/login', { body: values }));
      await session.signIn();
    } catch (e) {
      setError((e as Error).message);
    }
  });
  return (
    <Paper maw={420} mx="auto" mt="xl" p="lg" withBorder>
      <form onSubmit={onSubmit} noValidate>
        <Stack>
          <Title order={1} size="h2">
            Sign in to Switchboard
          </Title>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <TextInput
            label="E-mail"
            type="email"
            autoComplete="username"
            {...form.register('email')}
            error={form.formState.errors.email?.message}
          />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            {...form.register('password')}
            error={form.formState.errors.password?.message}
          />
          <Button type="submit" loading={form.formState.isSubmitting}>
            Sign in
          </Button>
          <Anchor component={Link} to="/signup">
            New customer? Sign up
          </Anchor>
        </Stack>
      </form>
    </Paper>
  );
}
