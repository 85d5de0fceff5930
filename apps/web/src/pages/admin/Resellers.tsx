import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { EditButton, EditPanel, useSaveThenClose } from '../../components/EditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { STATUSES, Status, textField } from '../../components/fields.ts';
import { formatTime } from '../../components/format.ts';
import { ListSearch } from '../../components/ListSearch.tsx';
import { usePagedList } from '../../components/paging.ts';
import { RecordTable } from '../../components/RecordTable.tsx';

type Reseller = ItemOf<'/api/v1/resellers'>;

/** Creating and editing a reseller take the same fields: a name and an account state. */
export const ResellerForm = z.object({
  name: textField('updateReseller', 'name', { required: 'Enter a name' }),
  status: Status,
});

function ResellerEditor({ reseller, onDone }: { reseller: Reseller; onDone: () => void }) {
  const api = useApi();
  const form = useForm({
    resolver: zodResolver(ResellerForm),
    defaultValues: { name: reseller.name, status: reseller.status },
  });
  const save = useSaveThenClose(['resellers'], onDone, async (v: z.infer<typeof ResellerForm>) =>
    unwrap(await api.PATCH('/api/v1/resellers/{id}', { params: { path: { id: reseller.id } }, body: v })),
  );
  return (
    <EditPanel
      title={`Edit reseller ${reseller.name}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Name" {...form.register('name')} error={form.formState.errors.name?.message} />
      <NativeSelect label="Status" {...form.register('status')} data={[...STATUSES]} />
    </EditPanel>
  );
}

/** Resellers: companies that run their own customers and domains on the platform (operators only). */
export function ResellersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Reseller | null>(null);
  const [name, setName] = useState('');
  const resellers = usePagedList(
    ['resellers'],
    async (query) => unwrap(await api.GET('/api/v1/resellers', { params: { query } })),
    { defaultSort: 'name', filters: name ? { name } : {} },
  );
  const form = useForm({
    resolver: zodResolver(ResellerForm),
    defaultValues: { name: '', status: 'active' as const },
  });
  const create = useMutation({
    mutationFn: async (v: z.infer<typeof ResellerForm>) =>
      unwrap(await api.POST('/api/v1/resellers', { body: v })),
    onSuccess: () => {
      form.reset();
      return queryClient.invalidateQueries({ queryKey: ['resellers'] });
    },
  });
  return (
    <Stack>
      <Title order={1}>Resellers</Title>
      <Card withBorder>
        <form onSubmit={form.handleSubmit((v) => create.mutate(v))} noValidate aria-label="New reseller">
          <Stack>
            <Title order={2} size="h4">
              New reseller
            </Title>
            <FormAlert error={create.error} />
            <Group align="flex-end">
              <TextInput
                label="Name"
                {...form.register('name')}
                error={form.formState.errors.name?.message}
              />
              <Button type="submit" loading={create.isPending}>
                Create reseller
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      {editing && <ResellerEditor key={editing.id} reseller={editing} onDone={() => setEditing(null)} />}
      <ListSearch placeholder="name contains" value={name} onChange={setName} />
      <RecordTable
        caption="Resellers"
        what="resellers"
        basePath="/api/v1/resellers"
        name={(r) => r.name}
        list={resellers}
        onChanged={() => queryClient.invalidateQueries({ queryKey: ['resellers'] })}
        toggle={{ enable: { status: 'active' }, disable: { status: 'locked' } }}
        empty={name ? 'No reseller matches.' : 'No resellers: the operator runs every customer itself.'}
        columns={[
          { header: 'Name', cell: (r) => r.name, sortKey: 'name' },
          { header: 'Status', cell: (r) => r.status, sortKey: 'status' },
          { header: 'Created', cell: (r) => formatTime(r.createdAt), sortKey: 'createdAt' },
        ]}
        actions={(r) => <EditButton what={r.name} onClick={() => setEditing(r)} />}
      />
    </Stack>
  );
}
