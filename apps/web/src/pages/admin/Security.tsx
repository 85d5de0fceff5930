import { Button, Card, Group, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { recordName } from '../../components/audit.ts';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { formatTime } from '../../components/format.ts';
import { AuditChanges, ChangesButton } from './AuditLog.tsx';

export function IpBansPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const bans = useQuery({
    queryKey: ['ip-bans'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/ip-bans', { params: { query: { perPage: 500, sort: '-createdAt' } } })),
  });
  const create = useMutation({
    mutationFn: async (body: { address: string; reason: string | null }) =>
      unwrap(await api.POST('/api/v1/ip-bans', { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['ip-bans'] }),
  });
  const remove = useMutation({
    mutationFn: async (id: string) => {
      const res = await api.DELETE('/api/v1/ip-bans/{id}', { params: { path: { id } } });
      if (!res.response.ok) unwrap(res);
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['ip-bans'] }),
  });
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const f = new FormData(event.currentTarget);
    const reason = String(f.get('reason') ?? '').trim();
    create.mutate({ address: String(f.get('address') ?? '').trim(), reason: reason || null });
  }
  return (
    <Stack>
      <Title order={1}>IP bans</Title>
      <Card withBorder>
        <form onSubmit={onSubmit} aria-label="New IP ban">
          <Stack>
            <FormAlert error={create.error} />
            <Group align="flex-end">
              <TextInput label="Address or network" name="address" required />
              <TextInput label="Reason" name="reason" />
              <Button type="submit">Ban</Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <FormAlert error={remove.error} />
      <DataTable
        caption="IP bans"
        rows={bans.data?.items}
        error={bans.error}
        empty="No bans."
        columns={[
          { header: 'Address', cell: (r) => r.address },
          { header: 'Reason', cell: (r) => r.reason ?? '–' },
          { header: 'Expires', cell: (r) => formatTime(r.expiresAt) },
          {
            header: 'Actions',
            cell: (r) => (
              <Button
                size="xs"
                variant="light"
                color="red"
                onClick={() => remove.mutate(r.id)}
                aria-label={`Lift ban on ${r.address}`}
              >
                Lift
              </Button>
            ),
          },
        ]}
      />
    </Stack>
  );
}

export function AuditLogPage() {
  const api = useApi();
  const [entity, setEntity] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const entries = useQuery({
    queryKey: ['audit-log', entity],
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/audit-log', {
          params: { query: { perPage: 200, sort: '-at', ...(entity ? { entity } : {}) } },
        }),
      ),
  });
  const opened = entries.data?.items.find((e) => e.id === open);
  return (
    <Stack>
      <Title order={1}>Audit log</Title>
      <TextInput
        label="Resource (e.g. subscribers)"
        value={entity}
        onChange={(e) => setEntity(e.currentTarget.value.trim())}
        maw={320}
      />
      {opened && (
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            {opened.action} {opened.entity} {recordName(opened.before, opened.after) ?? ''}
          </Title>
          <AuditChanges entry={opened} />
        </Card>
      )}
      <DataTable
        caption="Audit log"
        rows={entries.data?.items}
        error={entries.error}
        columns={[
          { header: 'When', cell: (r) => formatTime(r.at) },
          { header: 'Who', cell: (r) => r.actor },
          { header: 'Action', cell: (r) => r.action },
          { header: 'Resource', cell: (r) => r.entity },
          { header: 'Record', cell: (r) => recordName(r.before, r.after) ?? r.entityId ?? '–' },
          { header: 'From', cell: (r) => r.sourceIp ?? '–' },
          {
            header: 'Changes',
            cell: (r) => (
              <ChangesButton
                entry={r}
                open={open === r.id}
                onToggle={() => setOpen(open === r.id ? null : r.id)}
              />
            ),
          },
        ]}
      />
    </Stack>
  );
}
