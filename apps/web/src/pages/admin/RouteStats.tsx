import { Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;

/** ASR, ACD and NER per gateway or peering group over a period (operator). */
export function RouteStatsPage() {
  const api = useApi();
  const today = new Date();
  const monthStart = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
  const [from, setFrom] = useState(monthStart.toISOString().slice(0, 10));
  const [to, setTo] = useState(new Date(today.getTime() + 86_400_000).toISOString().slice(0, 10));
  const [by, setBy] = useState<'gateway' | 'group'>('gateway');
  const stats = useQuery({
    queryKey: ['route-stats', from, to, by],
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/route-stats', {
          params: { query: { from: `${from}T00:00:00Z`, to: `${to}T00:00:00Z`, by } },
        }),
      ),
  });
  return (
    <Stack>
      <Title order={1}>Route statistics</Title>
      <Group align="flex-end">
        <TextInput label="From" type="date" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        <TextInput label="To" type="date" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        <NativeSelect
          label="Per"
          value={by}
          onChange={(e) => setBy(e.currentTarget.value as 'gateway' | 'group')}
          data={[
            { value: 'gateway', label: 'Gateway' },
            { value: 'group', label: 'Peering group' },
          ]}
        />
      </Group>
      <DataTable
        caption="Route statistics"
        rows={stats.data?.items}
        error={stats.error}
        loading={stats.isLoading}
        empty="No outbound calls in this period."
        columns={[
          { header: by === 'group' ? 'Peering group' : 'Gateway', cell: (r) => r.name },
          { header: 'Attempts', cell: (r) => r.attempts },
          { header: 'Answered', cell: (r) => r.answered },
          { header: 'ASR', cell: (r) => percent(r.asr) },
          { header: 'ACD', cell: (r) => `${r.acdSeconds.toFixed(1)} s` },
          { header: 'NER', cell: (r) => percent(r.ner) },
          { header: 'Minutes', cell: (r) => r.minutes.toFixed(1) },
        ]}
      />
    </Stack>
  );
}
