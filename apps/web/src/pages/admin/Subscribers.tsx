import { Button, Card, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { EditButton } from '../../components/EditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { formatTime } from '../../components/format.ts';
import { PresenceDot, presenceOf, useSubscribersInCall } from '../../components/PresenceDot.tsx';
import { usePagedList } from '../../components/paging.ts';
import { RecordTable } from '../../components/RecordTable.tsx';
import { SubscriberCreateForm, SubscriberEditor } from './SubscriberForms.tsx';

type Subscriber = ItemOf<'/api/v1/subscribers'>;

export { prefixList, SubscriberEditForm } from './SubscriberForms.tsx';

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
  const inCall = useSubscribersInCall();
  const subscribers = usePagedList(
    ['subscribers'],
    async (query) => unwrap(await api.GET('/api/v1/subscribers', { params: { query } })),
    { defaultSort: 'username', filters: search ? { q: search } : {} },
  );
  const setStatus = useMutation({
    mutationFn: async ({ id, status }: { id: string; status: 'active' | 'locked' }) =>
      unwrap(await api.PATCH('/api/v1/subscribers/{id}', { params: { path: { id } }, body: { status } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['subscribers'] }),
  });
  return (
    <Stack>
      <Title order={1}>Subscribers</Title>
      <SubscriberCreateForm />
      <TextInput
        label="Search subscribers"
        placeholder="User name, display name or number"
        type="search"
        value={search}
        onChange={(e) => setSearch(e.currentTarget.value)}
        maw={420}
      />
      <FormAlert error={setStatus.error} />
      {editing && <SubscriberEditor key={editing.id} subscriber={editing} onDone={() => setEditing(null)} />}
      <RecordTable
        caption="Subscribers"
        what="subscribers"
        basePath="/api/v1/subscribers"
        name={(r) => r.username}
        list={subscribers}
        onChanged={() => queryClient.invalidateQueries({ queryKey: ['subscribers'] })}
        toggle={{ enable: { status: 'active' }, disable: { status: 'locked' } }}
        empty={search ? 'No subscriber matches.' : 'No subscribers yet.'}
        columns={[
          { header: 'SIP URI', cell: (r) => r.sipUri, sortKey: 'username' },
          { header: 'Presence', cell: (r) => <PresenceDot presence={presenceOf(r.online, r.id, inCall)} /> },
          { header: 'Customer', cell: (r) => r.customerName },
          { header: 'Name', cell: (r) => r.displayName ?? '–' },
          { header: 'Number', cell: (r) => r.primaryNumber ?? '–' },
          { header: 'Status', cell: (r) => r.status, sortKey: 'status' },
        ]}
        actions={(r) => (
          <>
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
          </>
        )}
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
