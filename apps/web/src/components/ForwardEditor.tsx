import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { DataTable } from './DataTable.tsx';
import { EditButton } from './EditPanel.tsx';
import { FormAlert } from './FormAlert.tsx';
import {
  destinationOf,
  destinationText,
  ForwardDestination,
  ForwardEditPanel,
  RingTime,
  ringTimeText,
} from './ForwardEdit.tsx';
import { choiceField, textField } from './fields.ts';
import { recordOptions } from './options.ts';
import { usePagedList } from './paging.ts';
import { DeleteButton } from './RecordActions.tsx';

const FORWARD_TYPES = [
  { value: 'cfu', label: 'Always (unconditional)' },
  { value: 'cfb', label: 'When busy' },
  { value: 'cft', label: 'When not answered' },
  { value: 'cfna', label: 'When not reachable' },
] as const;

const typeLabel = (type: string) => FORWARD_TYPES.find((t) => t.value === type)?.label ?? type;

export const ForwardForm = z.object({
  subscriberId: textField('createCallForward', 'subscriberId', { required: 'Choose a phone' }),
  type: choiceField('createCallForward', 'type'),
  destination: ForwardDestination,
  ringTimeout: RingTime,
});

/** Lists call forwards in scope and adds or removes them (operators see all, customers their own). */
export function ForwardEditor() {
  const api = useApi();
  const queryClient = useQueryClient();
  const forwards = usePagedList(
    ['call-forwards'],
    async (query) => unwrap(await api.GET('/api/v1/call-forwards', { params: { query } })),
    { defaultSort: 'type' },
  );
  const subscribers = useQuery({
    queryKey: ['subscribers', 'for-forwards'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 500 } } })),
  });
  const form = useForm({
    resolver: zodResolver(ForwardForm),
    defaultValues: { subscriberId: '', type: 'cfu' as const, destination: '', ringTimeout: 20 },
  });
  const create = useMutation({
    mutationFn: async (v: z.output<typeof ForwardForm>) =>
      unwrap(
        await api.POST('/api/v1/call-forwards', {
          body: {
            subscriberId: v.subscriberId,
            type: v.type,
            ringTimeout: v.ringTimeout,
            destinations: [destinationOf(v.destination)],
          },
        }),
      ),
    onSuccess: () => {
      form.reset();
      return queryClient.invalidateQueries({ queryKey: ['call-forwards'] });
    },
  });
  const [editing, setEditing] = useState<string | null>(null);
  const nameOf = new Map((subscribers.data?.items ?? []).map((s) => [s.id, s.sipUri]));
  const editingForward = forwards.query.data?.items.find((f) => f.id === editing);
  const err = form.formState.errors;
  return (
    <Stack>
      <Card withBorder>
        <form onSubmit={form.handleSubmit((v) => create.mutate(v))} noValidate aria-label="New call forward">
          <Stack>
            <Title order={2} size="h4">
              New call forward
            </Title>
            <FormAlert error={create.error} />
            <Group align="flex-end">
              <NativeSelect
                label="Phone"
                {...form.register('subscriberId')}
                error={err.subscriberId?.message}
                data={recordOptions(
                  subscribers.data?.items.map((s) => ({ id: s.id, name: s.sipUri })),
                  'Create a subscriber first',
                )}
              />
              <NativeSelect
                label="When"
                {...form.register('type')}
                data={FORWARD_TYPES.map((t) => ({ ...t }))}
              />
              <TextInput
                label="Forward to"
                {...form.register('destination')}
                error={err.destination?.message}
              />
              <TextInput
                label="Ring time (seconds)"
                type="number"
                {...form.register('ringTimeout')}
                error={err.ringTimeout?.message}
                w={150}
              />
              <Button type="submit" loading={create.isPending}>
                Save forward
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      {editingForward && (
        <ForwardEditPanel
          key={editingForward.id}
          forward={editingForward}
          label={`${nameOf.get(editingForward.subscriberId) ?? ''} (${typeLabel(editingForward.type)})`}
          onDone={() => setEditing(null)}
        />
      )}
      <DataTable
        caption="Call forwards"
        rows={forwards.query.data?.items}
        error={forwards.query.error}
        paging={forwards.paging}
        sort={forwards.sorting}
        empty="No call forwards."
        columns={[
          { header: 'Phone', cell: (r) => nameOf.get(r.subscriberId) ?? r.subscriberId },
          { header: 'When', cell: (r) => typeLabel(r.type), sortKey: 'type' },
          { header: 'To', cell: (r) => r.destinations.map(destinationText).join(', ') },
          { header: 'Ring time', cell: ringTimeText },
          { header: 'On', cell: (r) => (r.enabled ? 'yes' : 'no') },
          {
            header: 'Actions',
            cell: (r) => (
              <Group gap="xs" wrap="nowrap">
                <EditButton
                  what={`forward to ${r.destinations[0] ? destinationText(r.destinations[0]) : ''}`}
                  onClick={() => setEditing(r.id)}
                />
                <DeleteButton
                  what={`forward to ${r.destinations[0] ? destinationText(r.destinations[0]) : ''}`}
                  path={`/api/v1/call-forwards/${r.id}`}
                  onDeleted={() => queryClient.invalidateQueries({ queryKey: ['call-forwards'] })}
                />
              </Group>
            ),
          },
        ]}
      />
    </Stack>
  );
}
