import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Checkbox, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { DataTable } from '../../components/DataTable.tsx';
import { EditButton, EditPanel } from '../../components/EditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { textField } from '../../components/fields.ts';

type PhoneNumber = ItemOf<'/api/v1/numbers'>;

/** E.164 with its plus. */
const shown = (e164: string) => `+${e164.replace(/^\+/, '')}`;
type Subscriber = ItemOf<'/api/v1/subscribers'>;

export const NumberForm = z.object({
  subscriberId: textField('createNumber', 'subscriberId', { required: 'Choose a subscriber' }),
  countryCode: textField('createNumber', 'countryCode', {
    required: 'Country code digits, e.g. 49',
    invalid: 'Country code digits, e.g. 49',
  }),
  areaCode: textField('createNumber', 'areaCode', { invalid: 'Digits only' }),
  subscriberNumber: textField('createNumber', 'subscriberNumber', {
    required: 'Digits only',
    invalid: 'Digits only',
  }),
});

/** A number keeps its digits; what changes is the subscriber it rings and whether it is that one's primary. */
export const NumberEditForm = z.object({
  subscriberId: textField('updateNumber', 'subscriberId', { required: 'Choose a subscriber' }),
  isPrimary: z.boolean(),
});

function NumberEditor(props: { number: PhoneNumber; subscribers: Subscriber[]; onDone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useForm({
    resolver: zodResolver(NumberEditForm),
    defaultValues: { subscriberId: props.number.subscriberId, isPrimary: props.number.isPrimary },
  });
  const save = useMutation({
    mutationFn: async (v: z.infer<typeof NumberEditForm>) =>
      unwrap(await api.PATCH('/api/v1/numbers/{id}', { params: { path: { id: props.number.id } }, body: v })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['numbers'] });
      props.onDone();
    },
  });
  return (
    <EditPanel
      title={`Edit number ${shown(props.number.e164)}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={props.onDone}
      error={save.error}
      saving={save.isPending}
    >
      <NativeSelect
        label="Rings subscriber"
        {...form.register('subscriberId')}
        error={form.formState.errors.subscriberId?.message}
        data={props.subscribers.map((s) => ({ value: s.id, label: s.sipUri }))}
      />
      <Checkbox label="Primary number of the subscriber" {...form.register('isPrimary')} />
    </EditPanel>
  );
}

/** PSTN numbers (DIDs) and the subscriber each one rings. */
export function NumbersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const numbers = useQuery({
    queryKey: ['numbers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/numbers', { params: { query: { perPage: 500, sort: 'e164' } } })),
  });
  const subscribers = useQuery({
    queryKey: ['subscribers', 'for-numbers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 500 } } })),
  });
  const [editing, setEditing] = useState<PhoneNumber | null>(null);
  const form = useForm({
    resolver: zodResolver(NumberForm),
    defaultValues: { subscriberId: '', countryCode: '', areaCode: '', subscriberNumber: '' },
  });
  const create = useMutation({
    mutationFn: async (v: z.infer<typeof NumberForm>) =>
      unwrap(
        await api.POST('/api/v1/numbers', {
          body: {
            subscriberId: v.subscriberId,
            countryCode: v.countryCode,
            subscriberNumber: v.subscriberNumber,
            ...(v.areaCode ? { areaCode: v.areaCode } : {}),
          },
        }),
      ),
    onSuccess: () => {
      form.reset();
      return queryClient.invalidateQueries({ queryKey: ['numbers'] });
    },
  });
  const uriOf = new Map((subscribers.data?.items ?? []).map((s) => [s.id, s.sipUri]));
  const err = form.formState.errors;
  return (
    <Stack>
      <Title order={1}>Numbers</Title>
      <Card withBorder>
        <form onSubmit={form.handleSubmit((v) => create.mutate(v))} noValidate aria-label="New number">
          <Stack>
            <FormAlert error={create.error} />
            <Group align="flex-end">
              <NativeSelect
                label="Subscriber"
                {...form.register('subscriberId')}
                error={err.subscriberId?.message}
                data={[
                  { value: '', label: 'Choose…' },
                  ...(subscribers.data?.items ?? []).map((s) => ({ value: s.id, label: s.sipUri })),
                ]}
              />
              <TextInput
                label="Country code"
                {...form.register('countryCode')}
                error={err.countryCode?.message}
                w={120}
              />
              <TextInput
                label="Area code"
                {...form.register('areaCode')}
                error={err.areaCode?.message}
                w={120}
              />
              <TextInput
                label="Subscriber number"
                {...form.register('subscriberNumber')}
                error={err.subscriberNumber?.message}
              />
              <Button type="submit" loading={create.isPending}>
                Add number
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      {editing && (
        <NumberEditor
          key={editing.id}
          number={editing}
          subscribers={subscribers.data?.items ?? []}
          onDone={() => setEditing(null)}
        />
      )}
      <DataTable
        caption="Numbers"
        rows={numbers.data?.items}
        error={numbers.error}
        empty="No numbers."
        columns={[
          { header: 'Number', cell: (r) => shown(r.e164) },
          { header: 'Subscriber', cell: (r) => uriOf.get(r.subscriberId) ?? r.subscriberId },
          { header: 'Primary', cell: (r) => (r.isPrimary ? 'yes' : 'no') },
          {
            header: 'Actions',
            cell: (r) => <EditButton what={shown(r.e164)} onClick={() => setEditing(r)} />,
          },
        ]}
      />
    </Stack>
  );
}
