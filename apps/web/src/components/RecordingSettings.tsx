import { Button, Card, Checkbox, Group, NativeSelect, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { FormAlert } from './FormAlert.tsx';

type Mode = 'off' | 'always' | 'on_demand';

/**
 * A customer's call recording settings: the mode its phones default to, the announcement and how long
 * recordings are kept. The webhook is its provider's to set (API only), shown here when set.
 */
export function RecordingSettings({ customerId }: { customerId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const key = ['recording-settings', customerId];
  const settings = useQuery({
    queryKey: key,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/customers/{id}/recording-settings', { params: { path: { id: customerId } } }),
      ),
  });
  const [mode, setMode] = useState<Mode>('off');
  const [announcement, setAnnouncement] = useState(false);
  const [days, setDays] = useState('');
  useEffect(() => {
    if (!settings.data) return;
    setMode(settings.data.recordingMode);
    setAnnouncement(settings.data.recordingAnnouncement);
    setDays(settings.data.recordingRetentionDays?.toString() ?? '');
  }, [settings.data]);
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PATCH('/api/v1/customers/{id}/recording-settings', {
          params: { path: { id: customerId } },
          body: {
            recordingMode: mode,
            recordingAnnouncement: announcement,
            recordingRetentionDays: days.trim() === '' ? null : Number(days),
          },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: key }),
  });
  return (
    <Card withBorder>
      <form
        aria-label="Recording settings"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Recording settings
          </Title>
          <Group align="flex-end">
            <NativeSelect
              label="Record calls"
              value={mode}
              onChange={(e) => setMode(e.currentTarget.value as Mode)}
              data={[
                { value: 'off', label: 'Off' },
                { value: 'always', label: 'Always' },
              ]}
            />
            <TextInput
              label="Keep for days (empty: until deleted)"
              inputMode="numeric"
              value={days}
              onChange={(e) => setDays(e.currentTarget.value)}
            />
            <Checkbox
              label="Announce the recording to both parties"
              checked={announcement}
              onChange={(e) => setAnnouncement(e.currentTarget.checked)}
            />
            <Button type="submit" loading={save.isPending}>
              Save
            </Button>
          </Group>
          {settings.data?.recordingWebhookUrl && (
            <Text size="sm">
              Your provider tells {settings.data.recordingWebhookUrl} about each new recording.
            </Text>
          )}
          <FormAlert error={save.error} />
        </Stack>
      </form>
    </Card>
  );
}
