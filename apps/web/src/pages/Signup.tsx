import { zodResolver } from '@hookform/resolvers/zod';
import {
  Alert,
  Anchor,
  Button,
  NativeSelect,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link } from 'react-router';
import { z } from 'zod';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { useSession } from '../auth.tsx';
import { textField } from '../components/fields.ts';

export const SignupForm = z.object({
  // Picked from the domains open for sign-up, so only an empty choice is refused in practice.
  domain: textField('signup', 'domain', { required: 'Choose a domain', invalid: 'Choose a domain' }),
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
  const [error, setError] = useState<string | null>(null);
  // Only domains open for sign-up are offered; there is nothing to type (or to probe) by hand.
  const domains = useQuery({
    queryKey: ['signup-domains'],
    queryFn: async () => unwrap(await api.GET('/api/v1/signup/domains')).domains,
  });
  const form = useForm({
    resolver: zodResolver(SignupForm),
    defaultValues: { domain: '', name: '', email: '', password: '', username: '' },
  });
  const onSubmit = form.handleSubmit(async (values) => {
    setError(null);
    try {
      // An empty name is left out (the API takes a name or none, not an empty one).
      const { name, ...rest } = values;
      const body = name ? { ...rest, name } : rest;
      const result = unwrap(await api.POST('/api/v1/signup', { body }));
      // The SIP password is shown once, on the devices page the portal opens next.
      sessionStorage.setItem(`switchboard.sipPassword.${result.subscriberId}`, result.sipPassword);
      // Signed in, the app moves on to the portal, which shows this note.
      await session.signIn('Check your e-mail: the link in it switches your phone service on.');
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
          {domains.data?.length === 0 && (
            <Text role="status">
              Sign-up is not open here at the moment. Ask your provider for an account.
            </Text>
          )}
          <NativeSelect
            label="SIP domain"
            data={[
              { value: '', label: 'Choose…' },
              ...(domains.data ?? []).map((d) => ({ value: d, label: d })),
            ]}
            {...form.register('domain')}
            error={err.domain?.message}
          />
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
