import { zodResolver } from '@hookform/resolvers/zod';
import {
  Alert,
  Button,
  Card,
  Checkbox,
  Code,
  Group,
  NativeSelect,
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
import { DataTable } from '../../components/DataTable.tsx';
import { EditButton, EditPanel } from '../../components/EditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import {
  countField,
  fieldText,
  listField,
  numberOrNull,
  STATUSES,
  Status,
  textField,
  textOrNull,
} from '../../components/fields.ts';
import { formatTime } from '../../components/format.ts';

type Subscriber = ItemOf<'/api/v1/subscribers'>;

const SubscriberForm = z.object({
  customerId: textField('createSubscriber', 'customerId', { required: 'Choose a customer' }),
  domainId: textField('createSubscriber', 'domainId', { required: 'Choose a domain' }),
  username: textField('createSubscriber', 'username', {
    required: 'Enter a user name',
    invalid: "Not a SIP user name (letters, digits and -_.!~*'()&=+$,;?/)",
  }),
  displayName: textField('createSubscriber', 'displayName'),
});

/** Dialled-number prefixes typed as a list separated by commas or spaces. */
export function prefixList(value: string): string[] {
  return [...new Set(value.split(/[\s,]+/).filter((p) => p !== ''))];
}

/** What an operator changes on a subscriber; the user name stays (it is part of the stored digest). */
export const SubscriberEditForm = z.object({
  displayName: textField('updateSubscriber', 'displayName'),
  status: Status,
  maxConcurrentCalls: countField('updateSubscriber', 'maxConcurrentCalls'),
  clir: z.boolean(),
  blockedCalleePrefixes: listField(
    'updateSubscriber',
    'blockedCalleePrefixes',
    prefixList,
    'Digits only, separated by commas',
  ),
});

function SubscriberEditor({ subscriber, onDone }: { subscriber: Subscriber; onDone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useForm({
    resolver: zodResolver(SubscriberEditForm),
    defaultValues: {
      displayName: fieldText(subscriber.displayName),
      status: subscriber.status,
      maxConcurrentCalls: fieldText(subscriber.maxConcurrentCalls),
      clir: subscriber.clir,
      blockedCalleePrefixes: subscriber.blockedCalleePrefixes.join(', '),
    },
  });
  const save = useMutation({
    mutationFn: async (v: z.infer<typeof SubscriberEditForm>) =>
      unwrap(
        await api.PATCH('/api/v1/subscribers/{id}', {
          params: { path: { id: subscriber.id } },
          body: {
            displayName: textOrNull(v.displayName),
            status: v.status,
            maxConcurrentCalls: numberOrNull(v.maxConcurrentCalls),
            clir: v.clir,
            blockedCalleePrefixes: prefixList(v.blockedCalleePrefixes),
          },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['subscribers'] });
      onDone();
    },
  });
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit subscriber ${subscriber.sipUri}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Display name" {...form.register('displayName')} error={err.displayName?.message} />
      <NativeSelect label="Status" {...form.register('status')} data={[...STATUSES]} />
      <TextInput
        label="Max. concurrent calls"
        inputMode="numeric"
        {...form.register('maxConcurrentCalls')}
        error={err.maxConcurrentCalls?.message}
      />
      <TextInput
        label="Blocked callee prefixes"
        {...form.register('blockedCalleePrefixes')}
        error={err.blockedCalleePrefixes?.message}
      />
      <Checkbox label="Hide caller number (CLIR)" {...form.register('clir')} />
    </EditPanel>
  );
}

/** The registered devices (location bindings) of one subscriber, with their user agents. */
export function Devices({ subscriberId }: { subscriberId: string }) {
  const api = useApi();
  const devices = useQuery({
    queryKey: ['registrations', subscriberId],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/registrations', { params: { query: { subscriberId } } })),
    refetchInterval: 10_000,
  });
  return (
    <DataTable
      caption="Registered devices"
      rows={devices.data?.items}
      error={devices.error}
      empty="No device is registered."
      columns={[
        { header: 'Contact', cell: (r) => r.contactUri },
        { header: 'User agent', cell: (r) => r.userAgent ?? '–' },
        { header: 'From', cell: (r) => `${r.transport} ${r.receivedAddress}:${r.receivedPort}` },
        { header: 'Expires', cell: (r) => formatTime(r.expiresAt) },
      ]}
    />
  );
}

export function SubscribersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const [selected, setSelected] = useState<Subscriber | null>(null);
  const [editing, setEditing] = useState<Subscriber | null>(null);
  const [created, setCreated] = useState<{ sipUri: string; password: string } | null>(null);
  const subscribers = useQuery({
    queryKey: ['subscribers', search],
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/subscribers', {
          params: { query: { perPage: 200, sort: 'username', ...(search ? { username: search } : {}) } },
        }),
      ),
  });
  const customers = useQuery({
    queryKey: ['customers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/customers', { params: { query: { perPage: 500, sort: 'name' } } })),
  });
  const domains = useQuery({
    queryKey: ['domains'],
    queryFn: async () => unwrap(await api.GET('/api/v1/domains', { params: { query: { perPage: 500 } } })),
  });
  const form = useForm({
    resolver: zodResolver(SubscriberForm),
    defaultValues: { customerId: '', domainId: '', username: '', displayName: '' },
  });
  const create = useMutation({
    mutationFn: async (v: z.infer<typeof SubscriberForm>) =>
      unwrap(
        await api.POST('/api/v1/subscribers', {
          body: {
            customerId: v.customerId,
            domainId: v.domainId,
            username: v.username,
            displayName: v.displayName || null,
          },
        }),
      ),
    onSuccess: (subscriber) => {
      setCreated({ sipUri: subscriber.sipUri, password: subscriber.password ?? '' });
      form.reset();
      return queryClient.invalidateQueries({ queryKey: ['subscribers'] });
    },
  });
  const setStatus = useMutation({
    mutationFn: async ({ id, status }: { id: string; status: 'active' | 'locked' }) =>
      unwrap(await api.PATCH('/api/v1/subscribers/{id}', { params: { path: { id } }, body: { status } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['subscribers'] }),
  });
  const err = form.formState.errors;
  return (
    <Stack>
      <Title order={1}>Subscribers</Title>
      <Card withBorder>
        <form onSubmit={form.handleSubmit((v) => create.mutate(v))} noValidate aria-label="New subscriber">
          <Stack>
            <Title order={2} size="h4">
              New subscriber
            </Title>
            <FormAlert error={create.error} />
            {created && (
              <Alert color="green" title="Subscriber created" role="status">
                {created.sipUri} — SIP password (shown once):{' '}
                <Code data-testid="new-sip-password">{created.password}</Code>
              </Alert>
            )}
            <Group align="flex-end">
              <NativeSelect
                label="Customer"
                {...form.register('customerId')}
                error={err.customerId?.message}
                data={[
                  { value: '', label: 'Choose…' },
                  ...(customers.data?.items ?? []).map((c) => ({ value: c.id, label: c.name })),
                ]}
              />
              <NativeSelect
                label="Domain"
                {...form.register('domainId')}
                error={err.domainId?.message}
                data={[
                  { value: '', label: 'Choose…' },
                  ...(domains.data?.items ?? []).map((d) => ({ value: d.id, label: d.name })),
                ]}
              />
              <TextInput label="User name" {...form.register('username')} error={err.username?.message} />
              <TextInput label="Display name" {...form.register('displayName')} />
              <Button type="submit" loading={create.isPending}>
                Create subscriber
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <TextInput
        label="Search by user name"
        type="search"
        value={search}
        onChange={(e) => setSearch(e.currentTarget.value)}
        maw={320}
      />
      <FormAlert error={setStatus.error} />
      {editing && <SubscriberEditor key={editing.id} subscriber={editing} onDone={() => setEditing(null)} />}
      <DataTable
        caption="Subscribers"
        rows={subscribers.data?.items}
        error={subscribers.error}
        columns={[
          { header: 'SIP URI', cell: (r) => r.sipUri },
          { header: 'Name', cell: (r) => r.displayName ?? '–' },
          { header: 'Number', cell: (r) => r.primaryNumber ?? '–' },
          { header: 'Status', cell: (r) => r.status },
          {
            header: 'Actions',
            cell: (r) => (
              <Group gap="xs" wrap="nowrap">
                <EditButton what={r.username} onClick={() => setEditing(r)} />
                <Button
                  size="xs"
                  variant="light"
                  onClick={() => setSelected(r)}
                  aria-label={`Devices of ${r.username}`}
                >
                  Devices
                </Button>
                {r.status === 'active' ? (
                  <Button
                    size="xs"
                    color="red"
                    variant="light"
                    onClick={() => setStatus.mutate({ id: r.id, status: 'locked' })}
                    aria-label={`Disable ${r.username}`}
                  >
                    Disable
                  </Button>
                ) : (
                  <Button
                    size="xs"
                    variant="light"
                    onClick={() => setStatus.mutate({ id: r.id, status: 'active' })}
                    aria-label={`Enable ${r.username}`}
                  >
                    Enable
                  </Button>
                )}
              </Group>
            ),
          },
        ]}
      />
      {selected && (
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Devices of {selected.sipUri}
          </Title>
          <Devices subscriberId={selected.id} />
        </Card>
      )}
    </Stack>
  );
}
