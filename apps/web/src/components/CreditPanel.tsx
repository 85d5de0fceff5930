import { Badge, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { formatTime } from './format.ts';

/**
 * A customer's credit (docs/billing.md, "Prepaid"): balance, credit held by calls in progress, limits,
 * the top-up history and the credit and fraud events. The same view in the admin and the portal.
 */
export function CreditPanel({ customerId }: { customerId: string }) {
  const api = useApi();
  const path = { customerId };
  const credit = useQuery({
    queryKey: ['credit', customerId],
    queryFn: async () => unwrap(await api.GET('/api/v1/customers/{customerId}/credit', { params: { path } })),
  });
  const topUps = useQuery({
    queryKey: ['credit', customerId, 'top-ups'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/customers/{customerId}/credit/top-ups', { params: { path } })),
  });
  const c = credit.data;
  return (
    <Stack>
      <Paper p="md" withBorder>
        <Group>
          <Text size="xl" fw={700} aria-label="Balance">
            {c?.balance ?? '…'}
          </Text>
          {c?.prepaid ? <Badge>prepaid</Badge> : <Badge color="gray">postpaid</Badge>}
          {c?.blockedUntil ? (
            <Badge color="red">blocked until {formatTime(String(c.blockedUntil))}</Badge>
          ) : null}
        </Group>
        <Text size="sm" c="dimmed">
          Held by calls in progress: {c?.reserved ?? '…'}; daily limit {c?.dailyLimit ?? 'none'}, monthly
          limit {c?.monthlyLimit ?? 'none'}; low-balance warning below {c?.lowBalanceThreshold ?? 'none'}
        </Text>
      </Paper>
      <Title order={2} size="h4">
        Top-ups
      </Title>
      <Table aria-label="Top-ups">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>How</Table.Th>
            <Table.Th>Amount</Table.Th>
            <Table.Th>Balance after</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(topUps.data?.items ?? []).map((t) => (
            <Table.Tr key={t.id}>
              <Table.Td>{formatTime(String(t.createdAt))}</Table.Td>
              <Table.Td>{t.kind}</Table.Td>
              <Table.Td>{t.amount}</Table.Td>
              <Table.Td>{t.balanceAfter}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <CreditEvents customerId={customerId} />
    </Stack>
  );
}

/** A customer's credit and fraud alerts (low balance, spend limits, unusual destinations, bursts), newest first. */
export function CreditEvents({ customerId }: { customerId: string }) {
  const api = useApi();
  const events = useQuery({
    queryKey: ['credit', customerId, 'events'],
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/customers/{customerId}/credit/events', { params: { path: { customerId } } }),
      ),
  });
  return (
    <>
      <Title order={2} size="h4">
        Alerts
      </Title>
      <Table aria-label="Credit events">
        <Table.Tbody>
          {(events.data?.items ?? []).map((e) => (
            <Table.Tr key={e.id}>
              <Table.Td>{formatTime(String(e.createdAt))}</Table.Td>
              <Table.Td>{e.kind}</Table.Td>
              <Table.Td>
                <Text size="xs" ff="monospace">
                  {JSON.stringify(e.detail)}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </>
  );
}
