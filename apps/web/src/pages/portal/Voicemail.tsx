import {
  Alert,
  Anchor,
  Button,
  Card,
  Checkbox,
  Group,
  NativeSelect,
  NumberInput,
  PasswordInput,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { dialled, formatTime } from '../../components/format.ts';
import { VoicemailGreetings } from '../../components/VoicemailGreetings.tsx';

interface SettingsDraft {
  enabled: boolean;
  pin: string;
  email: string;
  deleteAfterEmail: boolean;
  unsolicitedMwi: boolean;
  maxMessageSeconds: number;
}

const audioUrl = (id: string, download = false) =>
  `/api/v1/voicemails/${encodeURIComponent(id)}/audio${download ? '?download=true' : ''}`;

/**
 * A customer's voicemail, per phone: the box's settings (on/off, PIN, e-mail with the recording,
 * longest message), its two greetings (unavailable and busy), and its messages to play, download, mark heard and delete. Calls
 * reach the box through a call forward to "voicemail" or a hunt group's no-answer destination.
 */
export function VoicemailPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const subscribers = useQuery({
    queryKey: ['subscribers', 'mine'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 100 } } })),
  });
  const phones = subscribers.data?.items ?? [];
  const [chosen, setChosen] = useState('');
  const subscriberId = chosen || phones[0]?.id || '';
  const settings = useQuery({
    queryKey: ['voicemail-settings', subscriberId],
    enabled: subscriberId !== '',
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers/{id}/voicemail', { params: { path: { id: subscriberId } } })),
  });
  const messages = useQuery({
    queryKey: ['voicemails', subscriberId],
    enabled: subscriberId !== '',
    refetchInterval: 15_000,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/voicemails', {
          params: { query: { subscriberId, perPage: 100, sort: '-createdAt' } },
        }),
      ),
  });
  const [draft, setDraft] = useState<SettingsDraft>({
    enabled: false,
    pin: '',
    email: '',
    deleteAfterEmail: false,
    unsolicitedMwi: false,
    maxMessageSeconds: 120,
  });
  const [pinError, setPinError] = useState<string | null>(null);
  useEffect(() => {
    if (settings.data)
      setDraft({
        enabled: settings.data.enabled,
        pin: '',
        email: settings.data.email ?? '',
        deleteAfterEmail: settings.data.deleteAfterEmail,
        unsolicitedMwi: settings.data.unsolicitedMwi,
        maxMessageSeconds: settings.data.maxMessageSeconds,
      });
  }, [settings.data]);
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['voicemail-settings', subscriberId] }),
      queryClient.invalidateQueries({ queryKey: ['voicemails', subscriberId] }),
    ]);
  const save = useMutation({
    mutationFn: async (d: SettingsDraft) =>
      unwrap(
        await api.PATCH('/api/v1/subscribers/{id}/voicemail', {
          params: { path: { id: subscriberId } },
          body: {
            enabled: d.enabled,
            email: d.email.trim() === '' ? null : d.email.trim(),
            deleteAfterEmail: d.deleteAfterEmail,
            unsolicitedMwi: d.unsolicitedMwi,
            maxMessageSeconds: d.maxMessageSeconds,
            ...(d.pin ? { pin: d.pin } : {}),
          },
        }),
      ),
    onSuccess: refresh,
  });
  const markHeard = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.PATCH('/api/v1/voicemails/{id}', { params: { path: { id } }, body: { heard: true } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.DELETE('/api/v1/voicemails/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
  });
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    if (draft.pin !== '' && !/^\d{4,12}$/.test(draft.pin)) {
      setPinError('4 to 12 digits');
      return;
    }
    setPinError(null);
    save.mutate(draft);
  };
  const items = messages.data?.items ?? [];
  return (
    <Stack>
      <Title order={1}>Voicemail</Title>
      {phones.length > 1 && (
        <NativeSelect
          label="Phone"
          w="fit-content"
          value={subscriberId}
          onChange={(e) => setChosen(e.currentTarget.value)}
          data={phones.map((p) => ({ value: p.id, label: p.displayName ?? p.username }))}
        />
      )}
      <Card withBorder>
        <form onSubmit={submit} noValidate aria-label="Voicemail settings">
          <Stack>
            <Title order={2} size="h4">
              Settings
            </Title>
            <FormAlert error={save.error} />
            <Checkbox
              label="Voicemail on"
              checked={draft.enabled}
              onChange={(e) => setDraft({ ...draft, enabled: e.currentTarget.checked })}
            />
            <Group align="flex-end">
              <PasswordInput
                label={settings.data?.pinSet ? 'New PIN (leave empty to keep)' : 'PIN'}
                value={draft.pin}
                error={pinError}
                onChange={(e) => setDraft({ ...draft, pin: e.currentTarget.value })}
                w={220}
              />
              <NumberInput
                label="Longest message (seconds)"
                min={10}
                max={600}
                value={draft.maxMessageSeconds}
                onChange={(v) => setDraft({ ...draft, maxMessageSeconds: Number(v) || 120 })}
                w={220}
              />
            </Group>
            <Group align="flex-end">
              <TextInput
                label="E-mail new messages to"
                type="email"
                value={draft.email}
                onChange={(e) => setDraft({ ...draft, email: e.currentTarget.value })}
                w={320}
              />
              <Checkbox
                label="Delete after e-mailing"
                checked={draft.deleteAfterEmail}
                onChange={(e) => setDraft({ ...draft, deleteAfterEmail: e.currentTarget.checked })}
              />
            </Group>
            <Checkbox
              label="Tell phones that do not subscribe about new messages (unsolicited MWI)"
              checked={draft.unsolicitedMwi}
              onChange={(e) => setDraft({ ...draft, unsolicitedMwi: e.currentTarget.checked })}
            />
            <Text size="sm" c="dimmed">
              Dial *98 (or your domain's own access code) from this phone to listen to messages. Send calls
              here with a call forward to "voicemail".
            </Text>
            <Group>
              <Button type="submit" loading={save.isPending} disabled={subscriberId === ''}>
                Save
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <VoicemailGreetings
        subscriberId={subscriberId}
        greetings={settings.data?.greetings}
        onChanged={refresh}
      />
      <Title order={2} size="h4">
        Messages
      </Title>
      {messages.error && <Alert color="red">The messages could not be loaded.</Alert>}
      <FormAlert error={remove.error ?? markHeard.error} />
      {subscriberId !== '' && messages.data && items.length === 0 && <Text c="dimmed">No messages.</Text>}
      {items.length > 0 && (
        <Table aria-label="Voicemail messages">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>From</Table.Th>
              <Table.Th>Received</Table.Th>
              <Table.Th>Length</Table.Th>
              <Table.Th>Listen</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((m) => (
              <Table.Tr key={m.id} fw={m.heard ? undefined : 700}>
                <Table.Td>{m.caller === 'anonymous' ? 'Withheld' : dialled(m.caller)}</Table.Td>
                <Table.Td>{formatTime(m.createdAt)}</Table.Td>
                <Table.Td>{Math.round(m.durationMs / 1000)} s</Table.Td>
                <Table.Td>
                  {/* biome-ignore lint/a11y/useMediaCaption: a voice message has no caption track */}
                  <audio
                    controls
                    preload="none"
                    src={audioUrl(m.id)}
                    aria-label={`Voicemail from ${m.caller}`}
                    onPlay={() => !m.heard && markHeard.mutate(m.id)}
                  />
                </Table.Td>
                <Table.Td>
                  <Group gap="xs">
                    <Anchor href={audioUrl(m.id, true)}>Download</Anchor>
                    <Button size="xs" color="red" variant="light" onClick={() => remove.mutate(m.id)}>
                      Delete
                    </Button>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
