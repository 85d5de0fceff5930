import { Badge, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { type ItemOf, type ResponseOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { formatTime } from '../../components/format.ts';

type Gateway = ItemOf<'/api/v1/peering-groups/{groupId}/gateways'>;
type Status = ResponseOf<'/api/v1/peering-groups/{groupId}/gateways/{id}/status', 'get'>;

const COLOURS: Record<string, string> = {
  registered: 'green',
  up: 'green',
  registering: 'blue',
  unknown: 'gray',
  failing: 'red',
  down: 'red',
  disabled: 'gray',
  off: 'gray',
};

/** A registration or health state as a coloured badge, its error as the tooltip. */
export function StateBadge({ state, error }: { state: string; error?: string | null | undefined }) {
  return (
    <Badge color={COLOURS[state] ?? 'gray'} variant="light" title={error ?? undefined}>
      {state}
    </Badge>
  );
}

/** The list's registration column: the state and, while registered, when the binding expires. */
export function RegistrationCell({ gateway }: { gateway: Gateway }) {
  const { status } = gateway;
  return (
    <>
      <StateBadge state={status.registration} error={status.registrationError} />
      {status.registration === 'failing' && status.registrationError && (
        <Text size="xs" c="red">
          {status.registrationError}
        </Text>
      )}
    </>
  );
}

/** A gateway's registration and health in detail, with its recent state changes (polled). */
export function GatewayStatusPanel({ groupId, gatewayId }: { groupId: string; gatewayId: string }) {
  const api = useApi();
  const query = useQuery({
    queryKey: ['gateway-status', gatewayId],
    queryFn: async (): Promise<Status> =>
      unwrap(
        await api.GET('/api/v1/peering-groups/{groupId}/gateways/{id}/status', {
          params: { path: { groupId, id: gatewayId } },
        }),
      ),
    refetchInterval: 5_000,
  });
  const s = query.data;
  if (!s) return null;
  return (
    <section aria-label="Gateway status">
      <Table>
        <Table.Tbody>
          <Table.Tr>
            <Table.Th>Registration</Table.Th>
            <Table.Td>
              <StateBadge state={s.registration} error={s.registrationError} />
              {s.registrationError ? ` ${s.registrationError}` : ''}
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Expires</Table.Th>
            <Table.Td>{formatTime(s.expiresAt)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Next attempt</Table.Th>
            <Table.Td>{formatTime(s.nextAttemptAt)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Health</Table.Th>
            <Table.Td>
              <StateBadge state={s.health} error={s.healthError} />
              {s.healthError ? ` ${s.healthError}` : ''}
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Node</Table.Th>
            <Table.Td>{s.node ?? '-'}</Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
      <Table aria-label="Recent state changes">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>What</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Detail</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {s.history.map((e) => (
            <Table.Tr key={`${e.kind}-${String(e.at)}-${e.state}`}>
              <Table.Td>{formatTime(String(e.at))}</Table.Td>
              <Table.Td>{e.kind}</Table.Td>
              <Table.Td>
                <StateBadge state={e.state} />
              </Table.Td>
              <Table.Td>{e.detail ?? ''}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </section>
  );
}
