import { Anchor, Button, Group, NativeSelect, Stack, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { asJson, unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { useSession } from '../auth.tsx';
import { DataTable } from './DataTable.tsx';
import { formatDuration, formatTime } from './format.ts';

const DISPOSITIONS = ['answered', 'busy', 'no_answer', 'cancelled', 'rejected', 'failed'] as const;
type Disposition = (typeof DISPOSITIONS)[number];

/** Call detail records with filters and CSV export; the API scopes them to the signed-in user's tenant. */
export function CdrTable() {
  const api = useApi();
  // The engine's capture of the last hour's calls: a SIP ladder per call, for operators.
  const operator = useSession().me?.role === 'operator';
  const [number, setNumber] = useState('');
  const [disposition, setDisposition] = useState<Disposition | ''>('');
  const [from, setFrom] = useState('');
  const query = {
    perPage: 100,
    sort: '-startedAt',
    ...(number ? { number } : {}),
    ...(disposition ? { disposition } : {}),
    ...(from ? { from: new Date(from).toISOString() } : {}),
  };
  const cdrs = useQuery({
    queryKey: ['cdrs', query],
    queryFn: async () => asJson(unwrap(await api.GET('/api/v1/cdrs', { params: { query } }))),
  });
  async function exportCsv() {
    const { perPage: _all, ...filters } = query;
    const params = new URLSearchParams({ ...filters, format: 'csv' });
    // A plain GET: the session cookie goes along by itself.
    const res = await fetch(`/api/v1/cdrs?${params}`, { credentials: 'same-origin' });
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = 'cdrs.csv';
    a.click();
    URL.revokeObjectURL(url);
  }
  return (
    <Stack>
      <Group align="flex-end">
        <TextInput
          label="Number or user contains"
          value={number}
          onChange={(e) => setNumber(e.currentTarget.value)}
        />
        <NativeSelect
          label="Outcome"
          value={disposition}
          onChange={(e) => setDisposition(e.currentTarget.value as Disposition | '')}
          data={[
            { value: '', label: 'Any' },
            ...DISPOSITIONS.map((d) => ({ value: d, label: d.replace('_', ' ') })),
          ]}
        />
        <TextInput
          label="Since"
          type="datetime-local"
          value={from}
          onChange={(e) => setFrom(e.currentTarget.value)}
        />
        <Button variant="light" onClick={exportCsv}>
          Export CSV
        </Button>
      </Group>
      <DataTable
        caption="Call detail records"
        rows={cdrs.data?.items}
        error={cdrs.error}
        empty="No calls match."
        columns={[
          { header: 'Started', cell: (r) => formatTime(r.startedAt) },
          {
            header: 'Caller',
            // A withheld caller (CLIR, a peer's Privacy header): the callee's side gets it masked as
            // `anonymous`; the operator and the caller's side see who called, marked as withheld.
            cell: (r) =>
              !r.callerWithheld
                ? r.callerDialled
                : r.callerDialled === 'anonymous'
                  ? 'Anonymous'
                  : `${r.callerDialled} (withheld)`,
          },
          {
            header: 'Callee',
            // A forwarded call: who was called, then where the forward took it.
            cell: (r) =>
              r.forwardType
                ? `${r.calleeDialled} → ${r.calleeRouted ?? '?'} (${r.forwardType})`
                : r.calleeDialled,
          },
          { header: 'Direction', cell: (r) => r.direction },
          { header: 'Outcome', cell: (r) => `${r.disposition}${r.sipCode ? ` (${r.sipCode})` : ''}` },
          { header: 'Duration', cell: (r) => formatDuration(r.durationMs) },
          ...(operator
            ? [
                {
                  header: 'SIP',
                  cell: (r: { callId: string }) => (
                    <Anchor component={Link} to={`/admin/calls/${encodeURIComponent(r.callId)}/ladder`}>
                      Ladder
                    </Anchor>
                  ),
                },
              ]
            : []),
        ]}
      />
    </Stack>
  );
}
