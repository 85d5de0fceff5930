import { Card, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { asJson, type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { formatTime } from '../../components/format.ts';

type Cdr = ItemOf<'/api/v1/cdrs'>;

/** Calls started in each of the last 24 hours, oldest first. */
export function callsPerHour(cdrs: Pick<Cdr, 'startedAt'>[], now: Date): { hour: string; calls: number }[] {
  const end = new Date(now);
  end.setMinutes(0, 0, 0);
  const buckets = Array.from({ length: 24 }, (_, i) => {
    const start = new Date(end.getTime() - (23 - i) * 3_600_000);
    return { start: start.getTime(), hour: `${String(start.getHours()).padStart(2, '0')}:00`, calls: 0 };
  });
  for (const cdr of cdrs) {
    const t = new Date(cdr.startedAt).getTime();
    const index = Math.floor((t - buckets[0]!.start) / 3_600_000);
    const bucket = buckets[index];
    if (bucket) bucket.calls += 1;
  }
  return buckets.map(({ hour, calls }) => ({ hour, calls }));
}

function Stat({ label, value }: { label: string; value: number | string | undefined }) {
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} aria-label={label}>
        {value ?? '…'}
      </Text>
    </Card>
  );
}

export function DashboardPage() {
  const api = useApi();
  const since = new Date(Date.now() - 24 * 3_600_000).toISOString();
  const registrations = useQuery({
    queryKey: ['registrations', 'count'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/registrations', { params: { query: { perPage: 1 } } })),
    refetchInterval: 10_000,
  });
  const calls = useQuery({
    queryKey: ['calls'],
    queryFn: async () => unwrap(await api.GET('/api/v1/calls', { params: { query: { perPage: 1 } } })),
    refetchInterval: 5_000,
  });
  const cdrs = useQuery({
    queryKey: ['cdrs', 'last24h'],
    queryFn: async () =>
      asJson(unwrap(await api.GET('/api/v1/cdrs', { params: { query: { from: since, perPage: 500 } } }))),
    refetchInterval: 60_000,
  });
  const failedLogins = useQuery({
    queryKey: ['audit-log', 'login-failed'],
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/audit-log', {
          params: { query: { action: 'login-failed', perPage: 10, sort: '-at' } },
        }),
      ),
  });
  const bans = useQuery({
    queryKey: ['ip-bans', 'recent'],
    queryFn: async () => unwrap(await api.GET('/api/v1/ip-bans', { params: { query: { perPage: 10 } } })),
  });
  return (
    <Stack>
      <Title order={1}>Dashboard</Title>
      <SimpleGrid cols={{ base: 1, xs: 3 }}>
        <Stat label="Live registrations" value={registrations.data?.total} />
        <Stat label="Active calls" value={calls.data?.total} />
        <Stat label="Calls in the last 24 hours" value={cdrs.data?.total} />
      </SimpleGrid>
      <Card withBorder>
        <Title order={2} size="h4" mb="sm">
          Calls per hour
        </Title>
        <div
          style={{ width: '100%', height: 220 }}
          role="img"
          aria-label="Bar chart of calls per hour over the last 24 hours"
        >
          <ResponsiveContainer>
            <BarChart data={callsPerHour(cdrs.data?.items ?? [], new Date())}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="hour" interval={3} />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="calls" fill="#228be6" />
            </BarChart>
          </ResponsiveContainer>
        </div>
      </Card>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Failed logins
          </Title>
          <DataTable
            caption="Failed logins"
            rows={failedLogins.data?.items}
            error={failedLogins.error}
            empty="No failed logins."
            columns={[
              { header: 'When', cell: (r) => formatTime(r.at) },
              { header: 'Account', cell: (r) => r.actor },
              { header: 'Address', cell: (r) => r.sourceIp ?? '–' },
            ]}
          />
        </Card>
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            IP bans
          </Title>
          <DataTable
            caption="Recent IP bans"
            rows={bans.data?.items}
            error={bans.error}
            empty="No bans."
            columns={[
              { header: 'Address', cell: (r) => r.address },
              { header: 'Reason', cell: (r) => r.reason ?? '–' },
              { header: 'Expires', cell: (r) => formatTime(r.expiresAt) },
            ]}
          />
        </Card>
      </SimpleGrid>
    </Stack>
  );
}
