import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  NativeSelect,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { CdrTable } from '../../components/CdrTable.tsx';
import { certificatePage, ha1FromProvisioning, webSocketServer } from '../../components/provisioning.ts';
import { type CallView, type IncomingText, type PhoneStatus, SipPhone } from '../../phone/sip-phone.ts';
import type { Subscriber } from './PhoneCard.tsx';
import { PhoneChat } from './PhoneChat.tsx';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

const STATUS_TEXT: Record<PhoneStatus, string> = {
  connecting: 'Connecting…',
  registered: 'Registered',
  unregistered: 'Not registered',
  unreachable: 'Server unreachable',
};

/** Plays a media stream in an audio or video element. */
function useStream<T extends HTMLMediaElement>(stream: MediaStream | undefined) {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (ref.current) ref.current.srcObject = stream ?? null;
  }, [stream]);
  return ref;
}

/** The microphones the browser offers (labels appear once the page may use the microphone). */
function useMicrophones(): MediaDeviceInfo[] {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    const media = navigator.mediaDevices;
    if (!media) return;
    const read = () =>
      void media.enumerateDevices().then((all) => setDevices(all.filter((d) => d.kind === 'audioinput')));
    read();
    media.addEventListener('devicechange', read);
    return () => media.removeEventListener('devicechange', read);
  }, []);
  return devices;
}

/** The call in progress: answer, hang up, mute, hold and the keypad (RFC 4733 DTMF). */
function CallPanel({ phone, call }: { phone: SipPhone; call: CallView }) {
  const [error, setError] = useState<string>();
  const act = (action: () => Promise<unknown> | unknown) => async () => {
    setError(undefined);
    try {
      await action();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const active = call.status === 'active';
  return (
    <Card withBorder aria-label="Call">
      <Stack gap="sm">
        <Group justify="space-between">
          <Text fw={600}>
            {call.status === 'incoming' ? 'Incoming call from ' : ''}
            {call.peer}
          </Text>
          <Badge data-testid="call-status">{call.status}</Badge>
        </Group>
        <Group>
          {call.status === 'incoming' && <Button onClick={act(() => phone.answer())}>Answer</Button>}
          <Button color="red" onClick={act(() => phone.hangUp())}>
            {call.status === 'incoming' ? 'Decline' : 'Hang up'}
          </Button>
          <Button variant="light" disabled={!active} onClick={act(() => phone.setMuted(!call.muted))}>
            {call.muted ? 'Unmute' : 'Mute'}
          </Button>
          <Button variant="light" disabled={!active} onClick={act(() => phone.setHeld(!call.held))}>
            {call.held ? 'Resume' : 'Hold'}
          </Button>
        </Group>
        {active && (
          <SimpleGrid cols={3} w={200} spacing={4} aria-label="Keypad">
            {KEYS.map((key) => (
              <Button key={key} variant="default" onClick={act(() => phone.sendDtmf(key))}>
                {key}
              </Button>
            ))}
          </SimpleGrid>
        )}
        {error && <Alert color="red">{error}</Alert>}
      </Stack>
    </Card>
  );
}

/**
 * The browser phone: one of the customer's subscribers registered from this page over secure WebSocket,
 * calling and called like any phone; its media is WebRTC, which the platform's relay bridges to SIP phones.
 */
export function PhonePage() {
  const api = useApi();
  const subscribers = useQuery({
    queryKey: ['subscribers', 'mine'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 100 } } })),
  });
  const connection = useQuery({
    queryKey: ['sip-connection'],
    queryFn: async () => unwrap(await api.GET('/api/v1/sip-connection')),
  });
  const server = webSocketServer(connection.data);
  const microphones = useMicrophones();
  const [subscriberId, setSubscriberId] = useState('');
  const [phone, setPhone] = useState<SipPhone>();
  const [status, setStatus] = useState<{ status: PhoneStatus; detail?: string | undefined }>();
  const [call, setCall] = useState<CallView>();
  const [remote, setRemote] = useState<MediaStream>();
  const [local, setLocal] = useState<MediaStream>();
  const [target, setTarget] = useState('');
  const [video, setVideo] = useState(false);
  const [microphone, setMicrophone] = useState('');
  const [error, setError] = useState<string>();
  const [arrived, setArrived] = useState<IncomingText[]>([]);
  const remoteAudio = useStream<HTMLAudioElement>(remote);
  const remoteVideo = useStream<HTMLVideoElement>(remote);
  const localVideo = useStream<HTMLVideoElement>(local);

  const items = subscribers.data?.items ?? [];
  const chosen: Subscriber | undefined = items.find((s) => s.id === subscriberId) ?? items[0];

  useEffect(() => () => void phone?.stop(), [phone]);
  useEffect(() => phone?.selectMicrophone(microphone || undefined), [phone, microphone]);

  async function connect(): Promise<void> {
    if (!chosen || !server) return;
    setError(undefined);
    await phone?.stop();
    setArrived([]);
    try {
      // The platform keeps no SIP password: the phone signs in with the account's MD5 HA1, taken from a
      // single-use provisioning link like a softphone's QR code (fetched on this origin).
      const link = unwrap(
        await api.POST('/api/v1/subscribers/{id}/provisioning', { params: { path: { id: chosen.id } } }),
      );
      const xml = await (await fetch(new URL(link.url).pathname, { cache: 'no-store' })).text();
      const ha1 = ha1FromProvisioning(xml);
      if (!ha1) throw new Error('the provisioning document has no credentials');
      const next = new SipPhone(
        { username: chosen.username, domain: chosen.domain, displayName: chosen.displayName, ha1, server },
        {
          status: (s, detail) => setStatus({ status: s, detail }),
          call: setCall,
          remoteStream: setRemote,
          localStream: setLocal,
          message: (m) => setArrived((all) => [...all, m]),
        },
      );
      setPhone(next);
      await next.start();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function dial(): Promise<void> {
    if (!phone || !chosen) return;
    setError(undefined);
    try {
      await phone.call(target, chosen.domain, video);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <Stack>
      <Title order={1}>Browser phone</Title>
      {!server && connection.isSuccess && (
        <Alert color="yellow">The platform has no secure WebSocket (wss) listener: ask your provider.</Alert>
      )}
      <Card withBorder>
        <Stack gap="sm">
          <Group align="flex-end">
            <NativeSelect
              label="Phone"
              value={chosen?.id ?? ''}
              onChange={(e) => setSubscriberId(e.currentTarget.value)}
              data={items.map((s) => ({ value: s.id, label: s.sipUri }))}
            />
            <NativeSelect
              label="Microphone"
              value={microphone}
              onChange={(e) => setMicrophone(e.currentTarget.value)}
              data={[
                { value: '', label: 'Default' },
                ...microphones
                  .filter((m) => m.deviceId && m.deviceId !== 'default')
                  .map((m, i) => ({ value: m.deviceId, label: m.label || `Microphone ${i + 1}` })),
              ]}
            />
            <Button onClick={() => void connect()} disabled={!chosen || !server}>
              {phone ? 'Reconnect' : 'Connect'}
            </Button>
            {status && (
              <Badge data-testid="phone-status" color={status.status === 'registered' ? 'green' : 'gray'}>
                {STATUS_TEXT[status.status]}
              </Badge>
            )}
          </Group>
          {status?.status === 'unreachable' && server && (
            <Alert color="yellow" title="Cannot reach the phone server">
              <Text size="sm">
                {status.detail ? `${status.detail}. ` : ''}If the server uses a certificate your browser does
                not trust (the all-in-one start generates a self-signed one), open{' '}
                <Anchor href={certificatePage(server)} target="_blank" rel="noreferrer">
                  {certificatePage(server)}
                </Anchor>
                , accept the certificate, then connect again.
              </Text>
            </Alert>
          )}
          {status?.status === 'registered' && !call && (
            <Group align="flex-end">
              <TextInput
                label="Call to"
                placeholder="Number or user"
                value={target}
                onChange={(e) => setTarget(e.currentTarget.value)}
                onKeyDown={(e) => e.key === 'Enter' && void dial()}
              />
              <Checkbox label="Video" checked={video} onChange={(e) => setVideo(e.currentTarget.checked)} />
              <Button onClick={() => void dial()} disabled={target.trim() === ''}>
                Call
              </Button>
            </Group>
          )}
          {error && <Alert color="red">{error}</Alert>}
        </Stack>
      </Card>
      {phone && call && <CallPanel phone={phone} call={call} />}
      {/* biome-ignore lint/a11y/useMediaCaption: a live call's far end has no caption track */}
      <audio ref={remoteAudio} autoPlay aria-label="Call audio" />
      {call?.video && (
        <Group>
          <video
            ref={remoteVideo}
            autoPlay
            playsInline
            muted
            aria-label="Remote video"
            style={{ maxWidth: 480 }}
          />
          <video
            ref={localVideo}
            autoPlay
            playsInline
            muted
            aria-label="Own video"
            style={{ maxWidth: 160 }}
          />
        </Group>
      )}
      {phone && chosen && status?.status === 'registered' && (
        <PhoneChat phone={phone} subscriber={chosen} arrived={arrived} />
      )}
      <Title order={2} size="h4">
        Call history
      </Title>
      <CdrTable />
    </Stack>
  );
}
