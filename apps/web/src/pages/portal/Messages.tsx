import { Alert, Badge, Card, Group, NativeSelect, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { dialled, formatTime } from '../../components/format.ts';

/** The newest messages shown of one phone's conversations. */
const SHOWN = 200;

export const STATUS_COLOUR = { delivered: 'green', queued: 'yellow', failed: 'red' } as const;
export const STATUS_LABEL = {
  delivered: 'delivered',
  queued: 'waiting for the phone to come online',
  failed: 'not delivered',
} as const;

/**
 * A customer's instant messages (SIP MESSAGE between phones), per phone: sent ones on the right,
 * received ones on the left, oldest first, each with its time and whether it reached the other side.
 */
export function MessagesPage() {
  const api = useApi();
  const subscribers = useQuery({
    queryKey: ['subscribers', 'mine'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 100 } } })),
  });
  const phones = subscribers.data?.items ?? [];
  const [chosen, setChosen] = useState('');
  const subscriberId = chosen || phones[0]?.id || '';
  const messages = useQuery({
    queryKey: ['messages', subscriberId],
    enabled: subscriberId !== '',
    refetchInterval: 10_000,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/messages', {
          params: { query: { subscriberId, perPage: SHOWN, sort: '-createdAt' } },
        }),
      ),
  });
  const items = [...(messages.data?.items ?? [])].reverse();
  return (
    <Stack>
      <Title order={1}>Messages</Title>
      {phones.length > 1 && (
        <NativeSelect
          label="Phone"
          w="fit-content"
          value={subscriberId}
          onChange={(e) => setChosen(e.currentTarget.value)}
          data={phones.map((p) => ({ value: p.id, label: p.displayName ?? p.username }))}
        />
      )}
      {messages.error && <Alert color="red">The messages could not be loaded.</Alert>}
      {subscriberId !== '' && messages.data && items.length === 0 && <Text c="dimmed">No messages yet.</Text>}
      <Stack gap="xs" role="log" aria-label="Conversation">
        {items.map((m) => {
          const sent = m.senderSubscriberId === subscriberId;
          return (
            <Card
              key={m.id}
              withBorder
              maw="70%"
              style={{ alignSelf: sent ? 'flex-end' : 'flex-start' }}
              bg={sent ? 'blue.0' : undefined}
              aria-label={sent ? 'Sent message' : 'Received message'}
            >
              <Text size="xs" c="dimmed">
                {sent ? `To ${dialled(m.toUri)}` : `From ${dialled(m.fromUri)}`} · {formatTime(m.createdAt)}
              </Text>
              <Text style={{ whiteSpace: 'pre-wrap' }}>{m.body}</Text>
              <Group gap="xs">
                <Badge size="xs" variant="light" color={STATUS_COLOUR[m.status]}>
                  {STATUS_LABEL[m.status]}
                </Badge>
                {m.deliveredAt && m.status === 'delivered' && (
                  <Text size="xs" c="dimmed">
                    {formatTime(m.deliveredAt)}
                  </Text>
                )}
              </Group>
            </Card>
          );
        })}
      </Stack>
    </Stack>
  );
}
