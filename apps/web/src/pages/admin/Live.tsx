import { Anchor, Button, Group, NativeSelect, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { useSession } from '../../auth.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { dialled, formatDuration, formatTime } from '../../components/format.ts';
import { usePagedList } from '../../components/paging.ts';
import { RecordTable } from '../../components/RecordTable.tsx';

const TRANSPORTS = ['udp', 'tcp', 'tls', 'ws', 'wss'] as const;
type Transport = (typeof TRANSPORTS)[number];

/** The user agent's product, without the version noise that makes the column wide. */
const shortAgent = (agent: string | null) => (agent ? agent.split(/\s+/).slice(0, 2).join(' ') : '–');

/**
 * Every live binding (RFC 3261 §10) the user may see: AOR, contact, where the REGISTER came from, user agent,
 * expiry and the node holding it. Removing one drops the device from every node until it registers again.
 */
export function RegistrationsPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [aor, setAor] = useState('');
  const [transport, setTransport] = useState<Transport | ''>('');
  const bindings = usePagedList(
    ['registrations', 'all'],
    async (query) => unwrap(await api.GET('/api/v1/registrations', { params: { query } })),
    {
      defaultSort: 'aor',
      filters: { ...(aor.trim() ? { aor: aor.trim() } : {}), ...(transport ? { transport } : {}) },
      refetchInterval: 10_000,
    },
  );
  return (
    <Stack>
      <Title order={1}>Registrations</Title>
      <Group align="flex-end">
        <TextInput
          label="AOR contains"
          type="search"
          value={aor}
          onChange={(e) => setAor(e.currentTarget.value)}
          maw={320}
        />
        <NativeSelect
          label="Transport"
          value={transport}
          onChange={(e) => setTransport(e.currentTarget.value as Transport | '')}
          data={[{ value: '', label: 'Any' }, ...TRANSPORTS]}
        />
      </Group>
      <RecordTable
        caption="Registrations"
        what="registrations"
        basePath="/api/v1/registrations"
        name={(r) => `the registration of ${r.aor} from ${r.receivedAddress}:${r.receivedPort}`}
        list={bindings}
        onChanged={() => queryClient.invalidateQueries({ queryKey: ['registrations'] })}
        empty={aor || transport ? 'No registration matches.' : 'No device is registered.'}
        columns={[
          { header: 'AOR', cell: (r) => r.aor, sortKey: 'aor' },
          {
            header: 'Contact',
            cell: (r) => (
              <Text size="sm" style={{ overflowWrap: 'anywhere', minWidth: 200 }}>
                {r.contactUri}
              </Text>
            ),
          },
          { header: 'Received from', cell: (r) => `${r.receivedAddress}:${r.receivedPort}` },
          { header: 'Transport', cell: (r) => r.transport },
          {
            header: 'User agent',
            cell: (r) => <span title={r.userAgent ?? ''}>{shortAgent(r.userAgent)}</span>,
          },
          { header: 'Expires', cell: (r) => formatTime(r.expiresAt), sortKey: 'expiresAt' },
          { header: 'Node', cell: (r) => r.node },
        ]}
      />
    </Stack>
  );
}

/** Calls in progress with their codecs and media relay; a call can be hung up from here. */
export function LiveCallsPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const operator = useSession().me?.role === 'operator';
  const calls = usePagedList(
    ['calls'],
    async (query) => unwrap(await api.GET('/api/v1/calls', { params: { query } })),
    { defaultSort: '-startedAt', refetchInterval: 3_000 },
  );
  const hangUp = useMutation({
    mutationFn: async (callId: string) => {
      const res = await api.DELETE('/api/v1/calls/{callId}', { params: { path: { callId } } });
      if (!res.response.ok) unwrap(res);
    },
    // The node ends the call within a moment; the list shows it gone at the next read.
    onSuccess: () => setTimeout(() => void queryClient.invalidateQueries({ queryKey: ['calls'] }), 500),
  });
  return (
    <Stack>
      <Title order={1}>Live calls</Title>
      <FormAlert error={hangUp.error} />
      <DataTable
        caption="Live calls"
        rows={calls.query.data?.items}
        error={calls.query.error}
        paging={calls.paging}
        sort={calls.sorting}
        empty="No call in progress."
        columns={[
          {
            header: 'Started',
            cell: (r) => new Date(r.startedAt).toLocaleTimeString(),
            sortKey: 'startedAt',
          },
          { header: 'Caller', cell: (r) => dialled(r.caller) },
          { header: 'Callee', cell: (r) => dialled(r.callee) },
          // Talk time once answered, else how far the call got.
          { header: 'Duration', cell: (r) => (r.answeredAt ? formatDuration(r.durationMs) : r.state) },
          { header: 'Codecs', cell: (r) => (r.codecs.length > 0 ? r.codecs.join(', ') : '–') },
          { header: 'Media relay', cell: (r) => r.mediaRelay ?? 'not anchored' },
          {
            header: 'Actions',
            cell: (r) => (
              <Group gap="xs" wrap="nowrap">
                {operator && (
                  <Anchor
                    component={Link}
                    to={`/admin/calls/${encodeURIComponent(r.callId)}/ladder`}
                    size="sm"
                  >
                    Ladder
                  </Anchor>
                )}
                <Button
                  size="xs"
                  color="red"
                  variant="light"
                  loading={hangUp.isPending && hangUp.variables === r.callId}
                  onClick={() => hangUp.mutate(r.callId)}
                  aria-label={`Hang up the call from ${dialled(r.caller)} to ${dialled(r.callee)}`}
                >
                  Hang up
                </Button>
              </Group>
            ),
          },
        ]}
      />
    </Stack>
  );
}
