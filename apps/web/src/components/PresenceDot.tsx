import { Box, Group, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';

/**
 * A subscriber's presence as the status dot shows it: in a call (ringing or talking), online (a
 * registration has not expired) or offline. Phones watch the same through presence and dialog
 * subscriptions; `GET /subscribers/{id}/presence` answers it for one subscriber.
 */
export type Presence = 'in-call' | 'online' | 'offline';

export function presenceOf(online: boolean, subscriberId: string, inCall: ReadonlySet<string>): Presence {
  if (inCall.has(subscriberId)) return 'in-call';
  return online ? 'online' : 'offline';
}

const LOOK: Record<Presence, { color: string; label: string }> = {
  'in-call': { color: 'var(--mantine-color-red-6)', label: 'in a call' },
  online: { color: 'var(--mantine-color-green-6)', label: 'online' },
  offline: { color: 'var(--mantine-color-gray-5)', label: 'offline' },
};

/** A coloured dot with its word (the colour alone says nothing to a screen reader or a colour-blind reader). */
export function PresenceDot({ presence }: { presence: Presence }) {
  const look = LOOK[presence];
  return (
    <Group gap={6} wrap="nowrap" data-presence={presence}>
      <Box w={10} h={10} style={{ borderRadius: '50%', background: look.color, flexShrink: 0 }} aria-hidden />
      <Text size="sm">{look.label}</Text>
    </Group>
  );
}

/**
 * The subscribers in a live call the signed-in user may see (the API filters calls by tenant),
 * refreshed every 10 s like the device list. Until it loads, or if it fails, nobody is shown in a call.
 */
export function useSubscribersInCall(): ReadonlySet<string> {
  const api = useApi();
  const calls = useQuery({
    queryKey: ['calls', 'presence'],
    queryFn: async () => unwrap(await api.GET('/api/v1/calls', { params: { query: { perPage: 100 } } })),
    refetchInterval: 10_000,
  });
  const ids = new Set<string>();
  for (const call of calls.data?.items ?? []) {
    if (call.callerSubscriberId) ids.add(call.callerSubscriberId);
    if (call.calleeSubscriberId) ids.add(call.calleeSubscriberId);
  }
  return ids;
}
