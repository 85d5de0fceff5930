import {
  Button,
  Card,
  Checkbox,
  Group,
  NativeSelect,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { useSession } from '../auth.tsx';
import { FormAlert, problemField } from './FormAlert.tsx';
import { choices, countField, numberOrNull } from './fields.ts';

type Mode = (typeof RECORDING_MODES)[number];

/** The recording modes the API takes, in its order. */
const RECORDING_MODES = choices('updateRecordingSettings', 'recordingMode');

/** How each mode is offered (the subscriber form adds "the customer's" for none of its own). */
const RECORDING_MODE_LABELS: Record<Mode, string> = {
  off: 'Off',
  always: 'Always',
  on_demand: 'On demand (the phone switches it on with the recording code)',
};

/** The retention typed as text, checked by the API's range (empty: kept until deleted). */
const RetentionDays = countField('updateRecordingSettings', 'recordingRetentionDays');

const RECORDING_MODE_OPTIONS = RECORDING_MODES.map((value) => ({
  value,
  label: RECORDING_MODE_LABELS[value],
}));

/** A subscriber's own mode: one of the customer's modes, or none of its own (`''`: sent as null). */
export function subscriberRecordingOptions(inherited: string) {
  return [{ value: '', label: inherited }, ...RECORDING_MODE_OPTIONS];
}

/**
 * A customer's call recording settings: the mode its phones default to, the announcement and how long
 * recordings are kept; for the operator and a reseller also the webhook told about each new recording and
 * its signing secret (the platform's nodes make that request, so the customer may not choose where: the
 * API refuses both fields from a customer, and the customer's form shows the URL only).
 */
export function RecordingSettings({ customerId }: { customerId: string }) {
  const api = useApi();
  const provider = useSession().me?.role !== 'customer';
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
  const [webhookUrl, setWebhookUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [removeSecret, setRemoveSecret] = useState(false);
  const [daysError, setDaysError] = useState<string | undefined>();
  useEffect(() => {
    if (!settings.data) return;
    setMode(settings.data.recordingMode);
    setAnnouncement(settings.data.recordingAnnouncement);
    setDays(settings.data.recordingRetentionDays?.toString() ?? '');
    setWebhookUrl(settings.data.recordingWebhookUrl ?? '');
    setSecret('');
    setRemoveSecret(false);
  }, [settings.data]);
  const save = useMutation({
    mutationFn: async () => {
      // A blank secret keeps the stored one (it is never shown, so the form cannot send it back).
      const secretChange = removeSecret
        ? { recordingWebhookSecret: null }
        : secret === ''
          ? {}
          : { recordingWebhookSecret: secret };
      return unwrap(
        await api.PATCH('/api/v1/customers/{id}/recording-settings', {
          params: { path: { id: customerId } },
          body: {
            recordingMode: mode,
            recordingAnnouncement: announcement,
            recordingRetentionDays: numberOrNull(days),
            ...(provider
              ? { recordingWebhookUrl: webhookUrl.trim() === '' ? null : webhookUrl.trim(), ...secretChange }
              : {}),
          },
        }),
      );
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: key }),
  });
  const fieldError = (field: string) => problemField(save.error, field);
  return (
    <Card withBorder>
      <form
        aria-label="Recording settings"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const checked = RetentionDays.safeParse(days);
          setDaysError(checked.success ? undefined : checked.error.issues[0]?.message);
          if (checked.success) save.mutate();
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Recording settings
          </Title>
          <FormAlert error={save.error} />
          <Group align="flex-end">
            <NativeSelect
              label="Record calls"
              value={mode}
              onChange={(e) => setMode(e.currentTarget.value as Mode)}
              data={RECORDING_MODE_OPTIONS}
              error={fieldError('recordingMode')}
            />
            <TextInput
              label="Keep for days (empty: until deleted)"
              inputMode="numeric"
              value={days}
              onChange={(e) => setDays(e.currentTarget.value)}
              error={daysError ?? fieldError('recordingRetentionDays')}
            />
            <Checkbox
              label="Announce the recording to both parties"
              checked={announcement}
              onChange={(e) => setAnnouncement(e.currentTarget.checked)}
            />
          </Group>
          {provider ? (
            <Group align="flex-end">
              <TextInput
                label="Webhook URL (empty: none)"
                description="Told about each new recording (POST)"
                value={webhookUrl}
                onChange={(e) => setWebhookUrl(e.currentTarget.value)}
                error={fieldError('recordingWebhookUrl')}
              />
              <PasswordInput
                label="New webhook signing secret"
                description={
                  settings.data?.recordingWebhookSecretSet
                    ? 'A secret is set; empty: keep it'
                    : 'None set; at least 16 characters'
                }
                autoComplete="new-password"
                value={secret}
                disabled={removeSecret}
                onChange={(e) => setSecret(e.currentTarget.value)}
                error={fieldError('recordingWebhookSecret')}
              />
              {settings.data?.recordingWebhookSecretSet && (
                <Checkbox
                  label="Remove the signing secret"
                  checked={removeSecret}
                  onChange={(e) => setRemoveSecret(e.currentTarget.checked)}
                />
              )}
            </Group>
          ) : (
            settings.data?.recordingWebhookUrl && (
              <Text size="sm">
                Your provider tells {settings.data.recordingWebhookUrl} about each new recording.
              </Text>
            )
          )}
          <Group>
            <Button type="submit" loading={save.isPending}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
