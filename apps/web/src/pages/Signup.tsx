import { zodResolver } from '@hookform/resolvers/zod';
import { Alert, Anchor, Button, Paper, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link, useNavigate } from 'react-router';
import { z } from 'zod';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { useSession } from '../auth.tsx';
import { textField } from '../components/fields.ts';

export const SignupForm = z.object({
  domain: textField('signup', 'domain', {
    required: 'Enter the SIP domain you were given',
    invalid: 'A domain name, e.g. voip.example.com',
  }),
  name: textField('signup', 'name', { optional: true }).optional(),
  email: textField('signup', 'email', {
    required: 'Enter an e-mail address',
    invalid: 'Enter an e-mail address',
  }),
  password: textField('signup', 'password', { required: 'At least 10 characters', trim: false }),
  username: textField('signup', 'username', {
    required: 'Choose a SIP user name',
    invalid: "Not a SIP user name (letters, digits and -_.!~*'()&=+$,;?/)",
  }),
});

export function SignupPage() {
  const api = useApi();
  const session = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const form = useForm({
    resolver: zodResolver(SignupForm),
    defaultValues: { domain: '', name: '', email: '', password: '', username: '' },
  });
  const onSubmit = form.handleSubmit(async (values) => {
    setError(null);
    try {
      const result = unwrap(await api.POST('/api/v1/signup', { body: values }));
      // The SIP password is shown once, on the devices page the portal opens next.
      sessionStorage.setItem(`switchboard.sipPassword.${result.subscriberId}`, result.sipPassword);
      await session.signIn();
      navigate('/portal');
    } catch (e) {
      setError((e as Error).message);
    }
  });
  const err = form.formState.errors;
  return (
    <Paper maw={460} mx="auto" mt="xl" p="lg" withBorder>
      <form onSubmit={onSubmit} noValidate>
        <Stack>
          <Title order={1} size="h2">
            Create your account
          </Title>
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          <TextInput label="SIP domain" {...form.register('domain')} error={err.domain?.message} />
          <TextInput label="Company or name" {...form.register('name')} />
          <TextInput
            label="E-mail"
            type="email"
            autoComplete="username"
            {...form.register('email')}
            error={err.email?.message}
          />
          <PasswordInput
            label="Password"
            autoComplete="new-password"
            {...form.register('password')}
            error={err.password?.message}
          />
          <TextInput label="SIP user name" {...form.register('username')} error={err.username?.message} />
          <Button type="submit" loading={form.formState.isSubmitting}>
            Sign up
          </Button>
          <Anchor component={Link} to="/login">
            Already have an account? Sign in
          </Anchor>
        </Stack>
      </form>
    </Paper>
  );
}
