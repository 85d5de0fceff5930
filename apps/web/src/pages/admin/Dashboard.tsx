import { Card, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { formatTime } from '../../components/format.ts';

/** The API's hours (ISO, UTC) as local `HH:00` labels for the chart. */
export function hourLabels(hours: { hour: string; calls: number; answered: number }[]) {
  return hours.map((h) => ({
    hour: `${String(new Date(h.hour).getHours()).padStart(2, '0')}:00`,
    calls: h.calls,
    answered: h.answered,
  }));
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
  // Every figure is an aggregate the API computes in SQL for the user's tenant.
  const stats = useQuery({
    queryKey: ['dashboard'],
    queryFn: async () => unwrap(await api.GET('/api/v1/dashboard')),
    refetchInterval: 10_000,
  });
  const d = stats.data;
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
      <FormAlert error={stats.error} />
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
        <Stat label="Registered devices" value={d?.devices} />
        <Stat label="Active calls" value={d?.activeCalls} />
        <Stat label="Calls in the last 24 hours" value={d?.callsLast24h} />
        <Stat label="Answered in the last 24 hours" value={d?.answeredLast24h} />
        <Stat label="Web login failures (24 h)" value={d?.webLoginFailuresLast24h} />
        <Stat
          label="SIP authentication failures"
          value={d === undefined ? undefined : d.sipAuthFailures === null ? 'n/a' : d.sipAuthFailures}
        />
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
            <BarChart data={hourLabels(d?.callsPerHour ?? [])}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="hour" interval={3} />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="calls" name="calls" fill="#228be6" />
              <Bar dataKey="answered" name="answered" fill="#40c057" />
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
