import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Checkbox, Group, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { EditButton, EditPanel, useSaveThenClose } from '../../components/EditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';
import { textField } from '../../components/fields.ts';
import { ListSearch } from '../../components/ListSearch.tsx';
import { recordOptions } from '../../components/options.ts';
import { usePagedList } from '../../components/paging.ts';
import { RecordTable } from '../../components/RecordTable.tsx';

type PhoneNumber = ItemOf<'/api/v1/numbers'>;

/** E.164 with its plus. */
const shown = (e164: string) => `+${e164.replace(/^\+/, '')}`;
type Subscriber = ItemOf<'/api/v1/subscribers'>;
type HuntGroup = ItemOf<'/api/v1/hunt-groups'>;

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
  /** `auto`: primary when it is the subscriber's first number (the API's default). */
  isPrimary: z.enum(['auto', 'yes', 'no']),
});

/**
 * A number keeps its digits; what changes is what it rings (a subscriber, `s:<id>`, or a hunt group,
 * `h:<id>`) and whether it is that subscriber's primary (a group's number never is).
 */
export const NumberEditForm = z.object({
  subscriberId: z.string().regex(/^[sh]:.+/, 'Choose a subscriber or a hunt group'),
  isPrimary: z.boolean(),
});

/** The PATCH body of an edited number: a group's number is never primary. */
function numberPatch(v: z.infer<typeof NumberEditForm>) {
  const id = v.subscriberId.slice(2);
  return v.subscriberId.startsWith('h:') ? { huntGroupId: id } : { subscriberId: id, isPrimary: v.isPrimary };
}

function NumberEditor(props: {
  number: PhoneNumber;
  subscribers: Subscriber[];
  huntGroups: HuntGroup[];
  onDone: () => void;
}) {
  const api = useApi();
  const target = props.number.huntGroupId
    ? `h:${props.number.huntGroupId}`
    : `s:${props.number.subscriberId}`;
  const form = useForm({
    resolver: zodResolver(NumberEditForm),
    defaultValues: { subscriberId: target, isPrimary: props.number.isPrimary },
  });
  const save = useSaveThenClose(['numbers'], props.onDone, async (v: z.infer<typeof NumberEditForm>) =>
    unwrap(
      await api.PATCH('/api/v1/numbers/{id}', {
        params: { path: { id: props.number.id } },
        body: numberPatch(v),
      }),
    ),
  );
  return (
    <EditPanel
      title={`Edit number ${shown(props.number.e164)}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={props.onDone}
      error={save.error}
      saving={save.isPending}
    >
      <NativeSelect
        label="Rings"
        {...form.register('subscriberId')}
        error={form.formState.errors.subscriberId?.message}
        data={[
          ...props.subscribers.map((s) => ({ value: `s:${s.id}`, label: s.sipUri })),
          ...props.huntGroups.map((g) => ({ value: `h:${g.id}`, label: `Hunt group ${g.sipUri}` })),
        ]}
      />
      <Checkbox label="Primary number of the subscriber" {...form.register('isPrimary')} />
    </EditPanel>
  );
}

/** PSTN numbers (DIDs) and the subscriber each one rings. */
export function NumbersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const e164 = search.replace(/[\s\-().]/g, '');
  const numbers = usePagedList(
    ['numbers'],
    async (query) => unwrap(await api.GET('/api/v1/numbers', { params: { query } })),
    { defaultSort: 'e164', filters: e164 ? { e164 } : {} },
  );
  const subscribers = useQuery({
    queryKey: ['subscribers', 'for-numbers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 500 } } })),
  });
  const huntGroups = useQuery({
    queryKey: ['hunt-groups', 'for-numbers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/hunt-groups', { params: { query: { perPage: 500 } } })),
  });
  const [editing, setEditing] = useState<PhoneNumber | null>(null);
  const form = useForm({
    resolver: zodResolver(NumberForm),
    defaultValues: {
      subscriberId: '',
      countryCode: '',
      areaCode: '',
      subscriberNumber: '',
      isPrimary: 'auto' as const,
    },
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
            ...(v.isPrimary === 'auto' ? {} : { isPrimary: v.isPrimary === 'yes' }),
          },
        }),
      ),
    onSuccess: () => {
      form.reset();
      return queryClient.invalidateQueries({ queryKey: ['numbers'] });
    },
  });
  const uriOf = new Map((subscribers.data?.items ?? []).map((s) => [s.id, s.sipUri]));
  const groupUriOf = new Map((huntGroups.data?.items ?? []).map((g) => [g.id, g.sipUri]));
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
                data={recordOptions(
                  subscribers.data?.items.map((s) => ({ id: s.id, name: s.sipUri })),
                  'Create a subscriber first',
                )}
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
              <NativeSelect
                label="Primary number"
                {...form.register('isPrimary')}
                data={[
                  { value: 'auto', label: 'If it is the first' },
                  { value: 'yes', label: 'Yes' },
                  { value: 'no', label: 'No' },
                ]}
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
          huntGroups={huntGroups.data?.items ?? []}
          onDone={() => setEditing(null)}
        />
      )}
      <ListSearch placeholder="digits" value={search} onChange={setSearch} />
      <RecordTable
        caption="Numbers"
        what="numbers"
        basePath="/api/v1/numbers"
        name={(r) => shown(r.e164)}
        list={numbers}
        onChanged={() => queryClient.invalidateQueries({ queryKey: ['numbers'] })}
        empty={e164 ? 'No number matches.' : 'No numbers.'}
        actions={(r) => <EditButton what={shown(r.e164)} onClick={() => setEditing(r)} />}
        columns={[
          { header: 'Number', cell: (r) => shown(r.e164), sortKey: 'e164' },
          {
            header: 'Rings',
            cell: (r) =>
              r.subscriberId
                ? (uriOf.get(r.subscriberId) ?? r.subscriberId)
                : `Hunt group ${groupUriOf.get(r.huntGroupId ?? '') ?? r.huntGroupId}`,
          },
          { header: 'Primary', cell: (r) => (r.isPrimary ? 'yes' : 'no') },
        ]}
      />
    </Stack>
  );
}
