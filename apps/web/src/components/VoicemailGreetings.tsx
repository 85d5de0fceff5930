import { Button, Card, FileInput, Group, Stack, Text, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { putAudio, unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { FormAlert } from './FormAlert.tsx';

type GreetingKind = 'unavailable' | 'busy';
type GreetingState = 'default' | 'uploaded';

const KINDS: Array<{ kind: GreetingKind; name: string; when: string }> = [
  {
    kind: 'unavailable',
    name: 'unavailable',
    when: 'Plays when you do not answer, cannot be reached, or all calls go to voicemail.',
  },
  {
    kind: 'busy',
    name: 'busy',
    when: 'Plays when you are on the phone (a "when busy" forward to voicemail).',
  },
];

/**
 * A box's two greetings, each uploaded or reset on its own: the unavailable one and the busy one
 * (`?kind=` of the greeting route). Either can also be recorded by phone from the *98 menu.
 */
export function VoicemailGreetings(props: {
  subscriberId: string;
  greetings: Record<GreetingKind, GreetingState> | undefined;
  onChanged: () => Promise<unknown>;
}) {
  return (
    <Card withBorder>
      <Stack>
        <Title order={2} size="h4">
          Greetings
        </Title>
        {KINDS.map((k) => (
          <GreetingRow key={k.kind} {...props} {...k} state={props.greetings?.[k.kind]} />
        ))}
        <Text size="sm" c="dimmed">
          To record a greeting by phone, dial *98, enter your PIN and press 0 for mailbox options.
        </Text>
      </Stack>
    </Card>
  );
}

function GreetingRow({
  subscriberId,
  kind,
  name,
  when,
  state,
  onChanged,
}: {
  subscriberId: string;
  kind: GreetingKind;
  name: string;
  when: string;
  state: GreetingState | undefined;
  onChanged: () => Promise<unknown>;
}) {
  const api = useApi();
  const upload = useMutation({
    mutationFn: (file: File) =>
      putAudio(
        `/api/v1/subscribers/${encodeURIComponent(subscriberId)}/voicemail/greeting?kind=${kind}`,
        file,
      ),
    onSuccess: onChanged,
  });
  const reset = useMutation({
    mutationFn: async () => {
      const res = await api.DELETE('/api/v1/subscribers/{id}/voicemail/greeting', {
        params: { path: { id: subscriberId }, query: { kind } },
      });
      // 204: no body to unwrap.
      if (!res.response.ok) unwrap(res);
    },
    onSuccess: onChanged,
  });
  return (
    <Stack gap="xs" aria-label={`The ${name} greeting`} role="group">
      <Text fw={500}>The {name} greeting</Text>
      <Text size="sm" c="dimmed">
        {when}
      </Text>
      <FormAlert error={upload.error ?? reset.error} />
      <Text size="sm">
        {state === 'uploaded' ? 'Your own greeting plays.' : 'The standard greeting plays.'}
      </Text>
      <Group align="flex-end">
        <FileInput
          label={`Upload the ${name} greeting (WAV or MP3)`}
          accept="audio/wav,audio/x-wav,audio/mpeg"
          onChange={(file) => file && upload.mutate(file)}
          disabled={subscriberId === ''}
          w={320}
        />
        {state === 'uploaded' && (
          <Button variant="default" onClick={() => reset.mutate()} loading={reset.isPending}>
            Use the standard {name} greeting
          </Button>
        )}
      </Group>
    </Stack>
  );
}
