import { Button, Card, Group, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { recordName } from '../../components/audit.ts';
import { DataTable } from '../../components/DataTable.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { formatTime } from '../../components/format.ts';
import { usePagedList } from '../../components/paging.ts';
import { RecordTable } from '../../components/RecordTable.tsx';
import { AuditChanges, ChangesButton } from './AuditLog.tsx';

export function IpBansPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [address, setAddress] = useState('');
  const bans = usePagedList(
    ['ip-bans'],
    async (query) => unwrap(await api.GET('/api/v1/ip-bans', { params: { query } })),
    { defaultSort: '-createdAt', filters: address ? { address } : {} },
  );
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
      <TextInput
        label="Address starts with"
        type="search"
        value={address}
        onChange={(e) => setAddress(e.currentTarget.value.trim())}
        maw={320}
      />
      <RecordTable
        caption="IP bans"
        what="IP bans"
        basePath="/api/v1/ip-bans"
        name={(r) => `the ban on ${r.address}`}
        list={bans}
        onChanged={() => queryClient.invalidateQueries({ queryKey: ['ip-bans'] })}
        empty={address ? 'No ban matches.' : 'No bans.'}
        columns={[
          { header: 'Address', cell: (r) => r.address, sortKey: 'address' },
          { header: 'Reason', cell: (r) => r.reason ?? '–' },
          { header: 'Hits', cell: (r) => r.hitCount, sortKey: 'hitCount' },
          { header: 'Created', cell: (r) => formatTime(r.createdAt), sortKey: 'createdAt' },
          { header: 'Expires', cell: (r) => formatTime(r.expiresAt), sortKey: 'expiresAt' },
        ]}
        actions={(r) => (
          <Button
            size="xs"
            variant="light"
            onClick={() => remove.mutate(r.id)}
            aria-label={`Lift ban on ${r.address}`}
          >
            Lift
          </Button>
        )}
      />
    </Stack>
  );
}

export function AuditLogPage() {
  const api = useApi();
  const [entity, setEntity] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const entries = usePagedList(
    ['audit-log'],
    async (query) => unwrap(await api.GET('/api/v1/audit-log', { params: { query } })),
    { defaultSort: '-at', perPage: 50, filters: entity ? { entity } : {} },
  );
  const opened = entries.query.data?.items.find((e) => e.id === open);
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
        rows={entries.query.data?.items}
        error={entries.query.error}
        paging={entries.paging}
        sort={entries.sorting}
        columns={[
          { header: 'When', cell: (r) => formatTime(r.at), sortKey: 'at' },
          { header: 'Who', cell: (r) => r.actor },
          { header: 'Action', cell: (r) => r.action, sortKey: 'action' },
          { header: 'Resource', cell: (r) => r.entity, sortKey: 'entity' },
          { header: 'Record', cell: (r) => recordName(r.before, r.after) ?? r.entityId ?? '–' },
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
