import { Alert, Button, Card, Code, Group, Image, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import QRCode from 'qrcode';
import { useEffect, useState } from 'react';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { provisioningText } from '../../components/provisioning.ts';
import { Devices } from '../admin/Subscribers.tsx';

type Subscriber = ItemOf<'/api/v1/subscribers'>;

function passwordKey(id: string): string {
  return `switchboard.sipPassword.${id}`;
}

function SubscriberCard({ subscriber }: { subscriber: Subscriber }) {
  const api = useApi();
  const [password, setPassword] = useState<string | null>(() =>
    sessionStorage.getItem(passwordKey(subscriber.id)),
  );
  const [qr, setQr] = useState<string | null>(null);
  const text = provisioningText({ username: subscriber.username, domain: subscriber.domain, password });
  useEffect(() => {
    let cancelled = false;
    QRCode.toDataURL(text, { margin: 1, width: 180 }).then(
      (url) => !cancelled && setQr(url),
      () => !cancelled && setQr(null),
    );
    return () => {
      cancelled = true;
    };
  }, [text]);
  const reset = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/api/v1/subscribers/{id}/reset-password', {
          params: { path: { id: subscriber.id } },
        }),
      ),
    onSuccess: (result) => {
      sessionStorage.setItem(passwordKey(subscriber.id), result.password);
      setPassword(result.password);
    },
  });
  return (
    <Card withBorder>
      <Stack>
        <Title order={2} size="h4">
          {subscriber.sipUri}
        </Title>
        {password && (
          <Alert color="yellow" title="Your SIP password">
            Write it down now; it is not shown again after you leave:{' '}
            <Code data-testid="sip-password">{password}</Code>
          </Alert>
        )}
        <Group align="flex-start">
          {qr && (
            <Image
              src={qr}
              alt={`QR code with the softphone settings for ${subscriber.sipUri}`}
              w={180}
              h={180}
            />
          )}
          <Code
            block
            style={{ flex: 1, minWidth: 220, whiteSpace: 'pre-wrap' }}
            aria-label="Provisioning text"
          >
            {text}
          </Code>
        </Group>
        <Button variant="light" onClick={() => reset.mutate()} loading={reset.isPending} w="fit-content">
          Generate a new SIP password
        </Button>
        <Text fw={600}>Registered devices</Text>
        <Devices subscriberId={subscriber.id} />
      </Stack>
    </Card>
  );
}

export function MySubscribersPage() {
  const api = useApi();
  const subscribers = useQuery({
    queryKey: ['subscribers', 'mine'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 100 } } })),
  });
  return (
    <Stack>
      <Title order={1}>My phones</Title>
      {subscribers.error && <Alert color="red">{subscribers.error.message}</Alert>}
      {subscribers.data?.items.map((s) => (
        <SubscriberCard key={s.id} subscriber={s} />
      ))}
    </Stack>
  );
}
