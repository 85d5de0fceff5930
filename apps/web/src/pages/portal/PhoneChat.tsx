import { Alert, Badge, Button, Card, Group, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { dialled, formatTime } from '../../components/format.ts';
import type { IncomingText, SipPhone } from '../../phone/sip-phone.ts';
import { STATUS_COLOUR, STATUS_LABEL } from './Messages.tsx';

/** The newest stored messages shown in the phone's chat. */
const SHOWN = 100;
/** A message that arrived live is matched with its stored copy sent within this long of its arrival. */
const SAME_MESSAGE_MS = 60_000;

interface ChatProps {
  phone: SipPhone;
  subscriber: { id: string; domain: string };
  /** Messages that arrived on this page since it registered, oldest first. */
  arrived: IncomingText[];
}

/**
 * The browser phone's chat: SIP MESSAGE (RFC 3428) to a number or user, the messages arriving live, and
 * the phone's stored history (`GET /api/v1/messages`) with each message's delivery state as the
 * platform reports it (delivered, queued for an offline phone, failed).
 */
export function PhoneChat({ phone, subscriber, arrived }: ChatProps) {
  const api = useApi();
  const [to, setTo] = useState('');
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string>();
  const history = useQuery({
    queryKey: ['messages', subscriber.id],
    refetchInterval: 10_000,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/messages', {
          params: { query: { subscriberId: subscriber.id, perPage: SHOWN, sort: '-createdAt' } },
        }),
      ),
  });
  const { refetch } = history;
  // The platform stores a relayed message once this phone has taken it: read the history again shortly.
  useEffect(() => {
    if (arrived.length === 0) return;
    const timer = setTimeout(() => void refetch(), 1500);
    return () => clearTimeout(timer);
  }, [arrived, refetch]);

  const stored = [...(history.data?.items ?? [])].reverse();
  const pending = arrived.filter(
    (live) =>
      !stored.some(
        (m) =>
          m.recipientSubscriberId === subscriber.id &&
          m.body === live.body &&
          Math.abs(new Date(m.createdAt).getTime() - live.receivedAt.getTime()) < SAME_MESSAGE_MS,
      ),
  );

  async function send(): Promise<void> {
    setError(undefined);
    setSending(true);
    try {
      const answer = await phone.sendMessage(to, subscriber.domain, text);
      // 200 delivered, 202 stored for an offline phone: both are in the history now, with their state.
      if (answer.statusCode >= 300) setError(`Not sent: ${answer.statusCode} ${answer.reason}`);
      else setText('');
      await refetch();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setSending(false);
    }
  }

  return (
    <Card withBorder aria-label="Chat">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Chat
        </Title>
        <Stack gap="xs" role="log" aria-label="Conversation">
          {stored.map((m) => {
            const sent = m.senderSubscriberId === subscriber.id;
            return (
              <Bubble
                key={m.id}
                sent={sent}
                peer={sent ? m.toUri : m.fromUri}
                body={m.body}
                at={m.createdAt}
                status={m.status}
              />
            );
          })}
          {pending.map((m) => (
            <Bubble
              key={`${m.receivedAt.getTime()}-${m.from}`}
              sent={false}
              peer={m.from}
              body={m.body}
              at={m.receivedAt.toISOString()}
              status="delivered"
            />
          ))}
          {stored.length === 0 && pending.length === 0 && history.isSuccess && (
            <Text c="dimmed">No messages yet.</Text>
          )}
        </Stack>
        <Group align="flex-end">
          <TextInput
            label="Message to"
            placeholder="Number or user"
            value={to}
            onChange={(e) => setTo(e.currentTarget.value)}
          />
          <Textarea
            label="Message"
            autosize
            minRows={1}
            style={{ flex: 1 }}
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
          />
          <Button
            onClick={() => void send()}
            loading={sending}
            disabled={to.trim() === '' || text.trim() === ''}
          >
            Send
          </Button>
        </Group>
        {error && <Alert color="red">{error}</Alert>}
      </Stack>
    </Card>
  );
}

function Bubble(props: {
  sent: boolean;
  peer: string;
  body: string;
  at: string;
  status: keyof typeof STATUS_LABEL;
}) {
  return (
    <Card
      withBorder
      maw="70%"
      style={{ alignSelf: props.sent ? 'flex-end' : 'flex-start' }}
      bg={props.sent ? 'blue.0' : undefined}
      aria-label={props.sent ? 'Sent message' : 'Received message'}
    >
      <Text size="xs" c="dimmed">
        {props.sent ? `To ${dialled(props.peer)}` : `From ${dialled(props.peer)}`} · {formatTime(props.at)}
      </Text>
      <Text style={{ whiteSpace: 'pre-wrap' }}>{props.body}</Text>
      <Badge size="xs" variant="light" color={STATUS_COLOUR[props.status]} data-testid="message-status">
        {STATUS_LABEL[props.status]}
      </Badge>
    </Card>
  );
}
