import { Badge, Button, Checkbox, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { type paths, type ResponseOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';

type Setting = ResponseOf<'/api/v1/settings', 'get'>['settings'][number];
type Change = NonNullable<paths['/api/v1/settings']['patch']['requestBody']>['content']['application/json'];
type Value = Setting['value'];

function shown(value: Value): string {
  if (Array.isArray(value)) return value.length > 0 ? value.join(', ') : 'none';
  return String(value);
}

/** The text typed for a setting, as the value the API takes (a list is comma-separated). */
function parsed(setting: Setting, text: string): Value {
  if (setting.kind === 'addresses')
    return text
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  // Not a whole number: sent as typed, so the API names the setting in its 400.
  const n = Number(text.trim());
  return Number.isInteger(n) && text.trim() !== '' ? n : (text as unknown as number);
}

function SettingRow({
  setting,
  save,
  busy,
}: {
  setting: Setting;
  save: (change: Change) => void;
  busy: boolean;
}) {
  const [text, setText] = useState(
    setting.kind === 'boolean' ? '' : shown(setting.value).replace(/^none$/, ''),
  );
  const fixed = setting.source === 'environment';
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const checked = new FormData(event.currentTarget).get('value') === 'on';
    save({ [setting.key]: setting.kind === 'boolean' ? checked : parsed(setting, text) } as Change);
  }
  return (
    <Table.Tr>
      <Table.Td>
        <Text ff="monospace" size="sm">
          {setting.key}
        </Text>
        <Text size="xs" c="dimmed">
          {setting.description}
        </Text>
      </Table.Td>
      <Table.Td>{shown(setting.default)}</Table.Td>
      <Table.Td>{shown(setting.value)}</Table.Td>
      <Table.Td>
        <Badge variant="light" color={fixed ? 'gray' : setting.source === 'database' ? 'blue' : 'green'}>
          {setting.source}
        </Badge>
      </Table.Td>
      <Table.Td>
        {fixed ? (
          <Text size="sm">fixed by {setting.variable}</Text>
        ) : (
          <form onSubmit={onSubmit} aria-label={`Change ${setting.key}`}>
            <Group gap="xs" wrap="nowrap">
              {setting.kind === 'boolean' ? (
                <Checkbox
                  name="value"
                  aria-label={setting.key}
                  defaultChecked={setting.value === true}
                  key={String(setting.value)}
                />
              ) : (
                <TextInput
                  aria-label={setting.key}
                  size="xs"
                  value={text}
                  onChange={(event) => setText(event.currentTarget.value)}
                />
              )}
              <Button type="submit" size="xs" loading={busy}>
                Save
              </Button>
              {setting.source === 'database' ? (
                <Button
                  size="xs"
                  variant="default"
                  onClick={() => {
                    if (setting.kind !== 'boolean') setText(shown(setting.default).replace(/^none$/, ''));
                    save({ [setting.key]: null } as Change);
                  }}
                >
                  Reset
                </Button>
              ) : null}
            </Group>
          </form>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

/**
 * The SIP side's operator settings: default and current value, where the current one comes from, and a
 * change applied live by every sip-core. Settings fixed by an environment variable are shown, not editable.
 */
export function SettingsPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const settings = useQuery({
    queryKey: ['settings'],
    queryFn: async () => unwrap(await api.GET('/api/v1/settings')),
  });
  const change = useMutation({
    mutationFn: async (body: Change) => unwrap(await api.PATCH('/api/v1/settings', { body })),
    onSuccess: (data) => queryClient.setQueryData(['settings'], data),
  });
  return (
    <Stack>
      <Title order={1}>Settings</Title>
      <Text size="sm">Changes apply at once on every SIP node; no restart.</Text>
      <FormAlert error={settings.error ?? change.error} />
      <Table striped>
        <Table.Caption>Settings</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Setting</Table.Th>
            <Table.Th>Default</Table.Th>
            <Table.Th>Current</Table.Th>
            <Table.Th>Source</Table.Th>
            <Table.Th>Change</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(settings.data?.settings ?? []).map((s) => (
            <SettingRow key={s.key} setting={s} save={(c) => change.mutate(c)} busy={change.isPending} />
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
