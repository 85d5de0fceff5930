import { zodResolver } from '@hookform/resolvers/zod';
import {
  Button,
  Card,
  Checkbox,
  Group,
  NativeSelect,
  PasswordInput,
  Stack,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { EditButton, EditPanel, useSaveThenClose } from '../../components/EditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { choiceField, fieldText, textField, textOrNull } from '../../components/fields.ts';
import { formatTime } from '../../components/format.ts';
import { ListSearch } from '../../components/ListSearch.tsx';
import { usePagedList } from '../../components/paging.ts';
import { RecordTable } from '../../components/RecordTable.tsx';

type User = ItemOf<'/api/v1/users'>;
const ROLES = ['operator', 'reseller', 'customer'] as const;

/** A new web/API login. Reseller logins name their reseller, customer logins their customer. */
export const UserForm = z
  .object({
    email: textField('createUser', 'email', {
      required: 'Enter an e-mail address',
      invalid: 'Enter an e-mail address',
    }),
    password: textField('createUser', 'password', { required: 'At least 10 characters', trim: false }),
    role: choiceField('createUser', 'role'),
    displayName: textField('createUser', 'displayName'),
    resellerId: z.string(),
    customerId: z.string(),
  })
  .refine((v) => v.role !== 'reseller' || v.resellerId !== '', {
    path: ['resellerId'],
    message: 'Choose the reseller',
  })
  .refine((v) => v.role !== 'customer' || v.customerId !== '', {
    path: ['customerId'],
    message: 'Choose the customer',
  });

/** What changes on an existing login: its name, whether it may sign in, and (optionally) a new password. */
export const UserEditForm = z.object({
  displayName: textField('updateUser', 'displayName'),
  enabled: z.boolean(),
  password: textField('updateUser', 'password', { trim: false, optional: true }),
});

function UserEditor({ user, onDone }: { user: User; onDone: () => void }) {
  const api = useApi();
  const form = useForm({
    resolver: zodResolver(UserEditForm),
    defaultValues: { displayName: fieldText(user.displayName), enabled: user.enabled, password: '' },
  });
  const save = useSaveThenClose(['users'], onDone, async (v: z.infer<typeof UserEditForm>) =>
    unwrap(
      await api.PATCH('/api/v1/users/{id}', {
        params: { path: { id: user.id } },
        body: {
          displayName: textOrNull(v.displayName),
          enabled: v.enabled,
          ...(v.password ? { password: v.password } : {}),
        },
      }),
    ),
  );
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit user ${user.email}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Display name" {...form.register('displayName')} error={err.displayName?.message} />
      <PasswordInput
        label="New password"
        description="Empty keeps the current one; a new one signs the user out everywhere"
        autoComplete="new-password"
        {...form.register('password')}
        error={err.password?.message}
      />
      <Checkbox label="May sign in" {...form.register('enabled')} />
    </EditPanel>
  );
}

/** Web and API logins of every role (operators only). */
export function UsersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<User | null>(null);
  const [email, setEmail] = useState('');
  const users = usePagedList(
    ['users'],
    async (query) => unwrap(await api.GET('/api/v1/users', { params: { query } })),
    { defaultSort: 'email', filters: email ? { email } : {} },
  );
  const resellers = useQuery({
    queryKey: ['resellers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/resellers', { params: { query: { perPage: 500, sort: 'name' } } })),
  });
  const customers = useQuery({
    queryKey: ['customers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/customers', { params: { query: { perPage: 500, sort: 'name' } } })),
  });
  const form = useForm({
    resolver: zodResolver(UserForm),
    defaultValues: {
      email: '',
      password: '',
      role: 'customer' as const,
      displayName: '',
      resellerId: '',
      customerId: '',
    },
  });
  const create = useMutation({
    mutationFn: async (v: z.infer<typeof UserForm>) =>
      unwrap(
        await api.POST('/api/v1/users', {
          body: {
            email: v.email,
            password: v.password,
            role: v.role,
            displayName: textOrNull(v.displayName),
            ...(v.role === 'reseller' ? { resellerId: v.resellerId } : {}),
            ...(v.role === 'customer' ? { customerId: v.customerId } : {}),
          },
        }),
      ),
    onSuccess: () => {
      form.reset();
      return queryClient.invalidateQueries({ queryKey: ['users'] });
    },
  });
  const role = form.watch('role');
  const err = form.formState.errors;
  const resellerName = new Map((resellers.data?.items ?? []).map((r) => [r.id, r.name]));
  const customerName = new Map((customers.data?.items ?? []).map((c) => [c.id, c.name]));
  const tenantOf = (u: User): string =>
    u.resellerId
      ? `reseller ${resellerName.get(u.resellerId) ?? u.resellerId}`
      : u.customerId
        ? `customer ${customerName.get(u.customerId) ?? u.customerId}`
        : '–';
  return (
    <Stack>
      <Title order={1}>Users</Title>
      <Card withBorder>
        <form onSubmit={form.handleSubmit((v) => create.mutate(v))} noValidate aria-label="New user">
          <Stack>
            <Title order={2} size="h4">
              New user
            </Title>
            <FormAlert error={create.error} />
            <Group align="flex-end">
              <TextInput label="E-mail" type="email" {...form.register('email')} error={err.email?.message} />
              <PasswordInput
                label="Password"
                w={220}
                autoComplete="new-password"
                {...form.register('password')}
                error={err.password?.message}
              />
              <NativeSelect label="Role" {...form.register('role')} data={[...ROLES]} />
              {role === 'reseller' && (
                <NativeSelect
                  label="Reseller"
                  {...form.register('resellerId')}
                  error={err.resellerId?.message}
                  data={[
                    { value: '', label: 'Choose…' },
                    ...(resellers.data?.items ?? []).map((r) => ({ value: r.id, label: r.name })),
                  ]}
                />
              )}
              {role === 'customer' && (
                <NativeSelect
                  label="Customer"
                  {...form.register('customerId')}
                  error={err.customerId?.message}
                  data={[
                    { value: '', label: 'Choose…' },
                    ...(customers.data?.items ?? []).map((c) => ({ value: c.id, label: c.name })),
                  ]}
                />
              )}
              <TextInput label="Display name" {...form.register('displayName')} />
              <Button type="submit" loading={create.isPending}>
                Create user
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      {editing && <UserEditor key={editing.id} user={editing} onDone={() => setEditing(null)} />}
      <ListSearch placeholder="e-mail contains" value={email} onChange={setEmail} />
      <RecordTable
        caption="Users"
        what="users"
        basePath="/api/v1/users"
        name={(r) => r.email}
        list={users}
        onChanged={() => queryClient.invalidateQueries({ queryKey: ['users'] })}
        toggle={{ enable: { enabled: true }, disable: { enabled: false } }}
        empty={email ? 'No user matches.' : 'No users yet.'}
        actions={(r) => <EditButton what={r.email} onClick={() => setEditing(r)} />}
        columns={[
          { header: 'E-mail', cell: (r) => r.email, sortKey: 'email' },
          { header: 'Name', cell: (r) => r.displayName ?? '–' },
          { header: 'Role', cell: (r) => r.role, sortKey: 'role' },
          { header: 'Belongs to', cell: tenantOf },
          { header: 'Sign-in', cell: (r) => (r.enabled ? 'enabled' : 'disabled') },
          { header: 'Last login', cell: (r) => formatTime(r.lastLoginAt), sortKey: 'lastLoginAt' },
        ]}
      />
    </Stack>
  );
}
