import { zodResolver } from '@hookform/resolvers/zod';
import { Alert, Anchor, Button, Group, Paper, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link, useLocation } from 'react-router';
import { z } from 'zod';
import { ApiProblem, unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { useSession } from '../auth.tsx';
import { textField } from '../components/fields.ts';

const LoginForm = z.object({
  email: textField('login', 'email', {
    required: 'Enter an e-mail address',
    invalid: 'Enter an e-mail address',
  }),
  password: textField('login', 'password', { required: 'Enter your password', trim: false }),
  // Asked only after the password was right and the account has two-factor sign-in.
  code: textField('login', 'code', { optional: true }),
});

/** The API names `/body/code` when the password was right and the account also needs its TOTP code. */
function needsCode(error: unknown): boolean {
  return (
    error instanceof ApiProblem &&
    error.status === 401 &&
    !!error.problem.errors?.some((e) => e.field === '/body/code')
  );
}

export function LoginPage() {
  const api = useApi();
  const session = useSession();
  const location = useLocation();
  const notice = (location.state as { notice?: string } | null)?.notice ?? session.notice;
  const [error, setError] = useState<string | null>(null);
  const [askCode, setAskCode] = useState(false);
  const form = useForm({
    resolver: zodResolver(LoginForm),
    defaultValues: { email: '', password: '', code: '' },
  });
  const onSubmit = form.handleSubmit(async (values) => {
    setError(null);
    const body = {
      email: values.email,
      password: values.password,
      ...(askCode && values.code ? { code: values.code } : {}),
    };
    try {
      // The answer also sets the session cookie; the token in its body is for scripts, not kept here.
      unwrap(await api.POST('/api/v1/auth/login', { body }));
      await session.signIn();
    } catch (e) {
      if (needsCode(e) && !askCode) {
        setAskCode(true);
        return;
      }
      // A wrong code: the API's own sentence says it better than the field list.
      setError(e instanceof ApiProblem && askCode ? (e.problem.detail ?? e.message) : (e as Error).message);
    }
  });
  return (
    <Paper maw={420} mx="auto" mt="xl" p="lg" withBorder>
      <form onSubmit={onSubmit} noValidate>
        <Stack>
          <Title order={1} size="h2">
            Sign in to Switchboard
          </Title>
          {notice && (
            <Alert color="green" role="status">
              {notice}
            </Alert>
          )}
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <TextInput
            label="E-mail"
            type="email"
            autoComplete="username"
            readOnly={askCode}
            {...form.register('email')}
            error={form.formState.errors.email?.message}
          />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            readOnly={askCode}
            {...form.register('password')}
            error={form.formState.errors.password?.message}
          />
          {askCode && (
            <TextInput
              label="Authenticator code"
              description="The 6-digit code of your authenticator app, or one of your recovery codes"
              autoComplete="one-time-code"
              inputMode="numeric"
              autoFocus
              {...form.register('code')}
            />
          )}
          <Button type="submit" loading={form.formState.isSubmitting}>
            {askCode ? 'Verify code' : 'Sign in'}
          </Button>
          <Group justify="space-between">
            <Anchor component={Link} to="/forgot-password" size="sm">
              Forgot your password?
            </Anchor>
            <Anchor component={Link} to="/signup" size="sm">
              New customer? Sign up
            </Anchor>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
