import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { DataTable } from './DataTable.tsx';
import { FormAlert } from './FormAlert.tsx';
import { choiceField, textField } from './fields.ts';

const FORWARD_TYPES = [
  { value: 'cfu', label: 'Always (unconditional)' },
  { value: 'cfb', label: 'When busy' },
  { value: 'cft', label: 'When not answered' },
  { value: 'cfna', label: 'When not reachable' },
] as const;

export const ForwardForm = z.object({
  subscriberId: textField('createCallForward', 'subscriberId', { required: 'Choose a phone' }),
  type: choiceField('createCallForward', 'type'),
  destination: z
    .string()
    .trim()
    .regex(/^(\+?\d{2,20}|sips?:[^\s@]+@[^\s]+)$/, 'A phone number (digits, optional +) or a sip: address'),
  ringTimeout: z.coerce.number().int().min(5).max(300),
});

/** Lists call forwards in scope and adds or removes them (operators see all, customers their own). */
export function ForwardEditor() {
  const api = useApi();
  const queryClient = useQueryClient();
  const forwards = useQuery({
    queryKey: ['call-forwards'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/call-forwards', { params: { query: { perPage: 500 } } })),
  });
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
            destinations: [
              { kind: v.destination.startsWith('sip') ? 'uri' : 'number', destination: v.destination },
            ],
          },
        }),
      ),
    onSuccess: () => {
      form.reset();
      return queryClient.invalidateQueries({ queryKey: ['call-forwards'] });
    },
  });
  const remove = useMutation({
    mutationFn: async (id: string) =>
      unwrap(
        await api
          .DELETE('/api/v1/call-forwards/{id}', { params: { path: { id } } })
          .then((r) => ({ ...r, data: r.data ?? {} })),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['call-forwards'] }),
  });
  const nameOf = new Map((subscribers.data?.items ?? []).map((s) => [s.id, s.sipUri]));
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
                data={[
                  { value: '', label: 'Choose…' },
                  ...(subscribers.data?.items ?? []).map((s) => ({ value: s.id, label: s.sipUri })),
                ]}
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
      <FormAlert error={remove.error} />
      <DataTable
        caption="Call forwards"
        rows={forwards.data?.items}
        error={forwards.error}
        empty="No call forwards."
        columns={[
          { header: 'Phone', cell: (r) => nameOf.get(r.subscriberId) ?? r.subscriberId },
          { header: 'When', cell: (r) => FORWARD_TYPES.find((t) => t.value === r.type)?.label ?? r.type },
          { header: 'To', cell: (r) => r.destinations.map((d) => d.destination).join(', ') },
          {
            header: 'Actions',
            cell: (r) => (
              <Button
                size="xs"
                color="red"
                variant="light"
                onClick={() => remove.mutate(r.id)}
                aria-label={`Remove forward to ${r.destinations[0]?.destination ?? ''}`}
              >
                Remove
              </Button>
            ),
          },
        ]}
      />
    </Stack>
  );
}
