import { Alert, Badge, Button, Card, Code, Group, Modal, Stack, Text, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { type Presence, PresenceDot } from '../../components/PresenceDot.tsx';
import { provisioningText, type SipConnectionInfo } from '../../components/provisioning.ts';
import { QrCode } from '../../components/QrCode.tsx';
import { Devices } from '../admin/Subscribers.tsx';
import { PhoneRecording } from './PhoneRecording.tsx';

export type Subscriber = ItemOf<'/api/v1/subscribers'>;
type PhoneNumber = ItemOf<'/api/v1/numbers'>;

export function passwordKey(id: string): string {
  return `switchboard.sipPassword.${id}`;
}

/** A single-use provisioning link as a QR code a softphone scans (Linphone: "Fetch remote configuration"). */
function SoftphoneSetup({ subscriber }: { subscriber: Subscriber }) {
  const api = useApi();
  const link = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/api/v1/subscribers/{id}/provisioning', { params: { path: { id: subscriber.id } } }),
      ),
  });
  return (
    <Stack gap="xs">
      <Button variant="light" onClick={() => link.mutate()} loading={link.isPending} w="fit-content">
        {link.data ? 'New set-up QR code' : 'Set up a softphone with a QR code'}
      </Button>
      <FormAlert error={link.error} />
      {link.data && (
        <Group align="flex-start">
          <QrCode text={link.data.url} label={`QR code to set up a softphone for ${subscriber.sipUri}`} />
          <Stack gap={4} style={{ flex: 1, minWidth: 220 }}>
            <Text size="sm">
              Scan it in Linphone (Assistant → Fetch remote configuration → QR code), or paste the link. It
              works <b>once</b>, until {new Date(link.data.expiresAt).toLocaleTimeString()}, and sets up the
              account without typing the password.
            </Text>
            <Code block style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>
              {link.data.url}
            </Code>
          </Stack>
        </Group>
      )}
    </Stack>
  );
}

/** "Generate a new SIP password", confirmed first: every phone with the old one stops registering. */
function NewPassword({
  subscriber,
  onPassword,
}: {
  subscriber: Subscriber;
  onPassword: (p: string) => void;
}) {
  const api = useApi();
  const [asking, setAsking] = useState(false);
  const reset = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/api/v1/subscribers/{id}/reset-password', {
          params: { path: { id: subscriber.id } },
        }),
      ),
    onSuccess: (result) => {
      setAsking(false);
      onPassword(result.password);
    },
  });
  return (
    <>
      <Button variant="default" onClick={() => setAsking(true)} w="fit-content">
        Generate a new SIP password
      </Button>
      <Modal opened={asking} onClose={() => setAsking(false)} title="Generate a new SIP password?">
        <Stack>
          <Text>
            The current password of {subscriber.sipUri} stops working at once. Every phone that uses it must
            be updated with the new password (or set up again with the QR code), or it can no longer make or
            take calls.
          </Text>
          <FormAlert error={reset.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setAsking(false)}>
              Cancel
            </Button>
            <Button color="red" onClick={() => reset.mutate()} loading={reset.isPending}>
              Generate and replace
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

/** The subscriber's SRTP policy as its user needs to know it to set up a phone (docs/tls.md). */
const SRTP_TEXT: Record<Subscriber['srtp'], string> = {
  optional: 'Media encryption (SRTP): optional. Calls are encrypted when your phone offers SRTP (SDES).',
  preferred:
    'Media encryption (SRTP): preferred. Calls to your phone are offered SRTP (SDES): enable SRTP on the phone.',
  mandatory:
    'Media encryption (SRTP): mandatory. Set your phone to SRTP (SDES) and TLS; calls without SRTP are refused.',
};

export function PhoneCard(props: {
  subscriber: Subscriber;
  numbers: PhoneNumber[];
  connection: SipConnectionInfo | undefined;
  presence: Presence;
}) {
  const { subscriber, numbers, connection } = props;
  const [password, setPassword] = useState<string | null>(() =>
    sessionStorage.getItem(passwordKey(subscriber.id)),
  );
  const text = provisioningText(
    { username: subscriber.username, domain: subscriber.domain, password },
    connection,
  );
  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h4">
            {subscriber.sipUri}
          </Title>
          <Group gap="sm">
            <PresenceDot presence={props.presence} />
            {subscriber.status !== 'active' && <Badge color="orange">{subscriber.status}</Badge>}
          </Group>
        </Group>
        {subscriber.displayName && <Text c="dimmed">{subscriber.displayName}</Text>}
        <Text size="sm" aria-label={`Numbers of ${subscriber.sipUri}`}>
          Numbers:{' '}
          {numbers.length === 0
            ? 'none yet (your provider assigns them)'
            : numbers.map((n) => `${n.e164}${n.isPrimary ? ' (primary)' : ''}`).join(', ')}
        </Text>
        <Text size="sm" aria-label={`Media encryption of ${subscriber.sipUri}`}>
          {SRTP_TEXT[subscriber.srtp]}
        </Text>
        {password && (
          <Alert color="yellow" title="Your SIP password">
            Write it down now; it is not shown again after you leave:{' '}
            <Code data-testid="sip-password">{password}</Code>
          </Alert>
        )}
        <Code block style={{ whiteSpace: 'pre-wrap' }} aria-label="Provisioning text">
          {text}
        </Code>
        <PhoneRecording subscriber={subscriber} />
        <SoftphoneSetup subscriber={subscriber} />
        <NewPassword
          subscriber={subscriber}
          onPassword={(p) => {
            sessionStorage.setItem(passwordKey(subscriber.id), p);
            setPassword(p);
          }}
        />
        <Text fw={600}>Registered devices</Text>
        <Devices subscriberId={subscriber.id} />
      </Stack>
    </Card>
  );
}
