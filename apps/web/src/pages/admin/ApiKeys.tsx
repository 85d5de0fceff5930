import { Alert, Badge, Button, Card, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { formatTime } from '../../components/format.ts';
import { Copyable } from '../../components/Secret.tsx';

type ApiKey = ItemOf<'/api/v1/api-keys'>;

/** Whether a key still works, at the time `now`. */
export function keyState(key: ApiKey, now = Date.now()): 'active' | 'revoked' | 'expired' {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && new Date(key.expiresAt).getTime() <= now) return 'expired';
  return 'active';
}

/** A date picked in the form means "valid through that day" in the browser's time zone. */
export function expiryOf(date: string): string | null {
  if (date === '') return null;
  const end = new Date(`${date}T23:59:59`);
  return Number.isNaN(end.getTime()) ? null : end.toISOString();
}

/**
 * The signed-in user's API keys: machines use them as `Authorization: Bearer <key>` and act as this user.
 * A key is shown once when made; the list shows its start, expiry and when it was last used.
 */
export function ApiKeysPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [made, setMade] = useState<{ name: string; key: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const keys = useQuery({
    queryKey: ['api-keys'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/api-keys', { params: { query: { perPage: 500, sort: '-createdAt' } } })),
  });
  const create = useMutation({
    mutationFn: async (body: { name: string; expiresAt: string | null }) =>
      unwrap(await api.POST('/api/v1/api-keys', { body })),
    onSuccess: (key) => {
      setMade({ name: key.name, key: key.key });
      return queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (id: string) => {
      const res = await api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id } } });
      if (!res.response.ok) unwrap(res);
    },
    onSuccess: () => {
      setConfirming(null);
      return queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const f = new FormData(form);
    create.mutate(
      { name: String(f.get('name') ?? '').trim(), expiresAt: expiryOf(String(f.get('expires') ?? '')) },
      { onSuccess: () => form.reset() },
    );
  }
  const today = new Date().toISOString().slice(0, 10);
  return (
    <Stack>
      <Title order={1}>API keys</Title>
      <Text size="sm" c="dimmed">
        A key acts as you, with your role, for scripts and other systems: send it as{' '}
        <code>Authorization: Bearer &lt;key&gt;</code>. Changing your password revokes all your keys.
      </Text>
      <Card withBorder>
        <form onSubmit={onSubmit} aria-label="New API key">
          <Stack>
            <FormAlert error={create.error} />
            {made && (
              <Alert color="green" title={`Key “${made.name}” created`} role="status">
                <Stack gap={4}>
                  <Text size="sm">Copy it now: it is shown only once.</Text>
                  <Copyable label="API key" value={made.key} testId="new-api-key" />
                </Stack>
              </Alert>
            )}
            <Group align="flex-end">
              <TextInput label="Name" name="name" required maxLength={128} />
              <TextInput label="Expires (optional)" name="expires" type="date" min={today} />
              <Button type="submit" loading={create.isPending}>
                Create key
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <FormAlert error={revoke.error} />
      <DataTable
        caption="API keys"
        rows={keys.data?.items}
        error={keys.error}
        empty="No API keys yet."
        columns={[
          { header: 'Name', cell: (r) => r.name },
          { header: 'Starts with', cell: (r) => <code>{r.prefix}</code> },
          {
            header: 'State',
            cell: (r) => {
              const state = keyState(r);
              return (
                <Badge miw="max-content" color={state === 'active' ? 'green' : 'gray'}>
                  {state}
                </Badge>
              );
            },
          },
          { header: 'Expires', cell: (r) => (r.expiresAt ? formatTime(r.expiresAt) : 'never') },
          { header: 'Last used', cell: (r) => (r.lastUsedAt ? formatTime(r.lastUsedAt) : 'never') },
          { header: 'Created', cell: (r) => formatTime(r.createdAt) },
          {
            header: 'Actions',
            cell: (r) =>
              r.revokedAt !== null ? (
                '–'
              ) : confirming === r.id ? (
                <Group gap="xs" wrap="nowrap">
                  <Button
                    size="xs"
                    color="red"
                    onClick={() => revoke.mutate(r.id)}
                    loading={revoke.isPending}
                    aria-label={`Confirm revoking ${r.name}`}
                  >
                    Revoke now
                  </Button>
                  <Button size="xs" variant="default" onClick={() => setConfirming(null)}>
                    Keep
                  </Button>
                </Group>
              ) : (
                <Button
                  size="xs"
                  color="red"
                  variant="light"
                  onClick={() => setConfirming(r.id)}
                  aria-label={`Revoke ${r.name}`}
                >
                  Revoke
                </Button>
              ),
          },
        ]}
      />
    </Stack>
  );
}
