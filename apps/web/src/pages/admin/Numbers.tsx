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
type Attendant = ItemOf<'/api/v1/auto-attendants'>;

/** What a number rings, as a select value: `s:<subscriber id>`, `h:<hunt group id>` or `a:<attendant id>`. */
const TARGET = /^[sha]:.+/;

/** The body fields naming what a number rings, from its select value. */
function targetOf(value: string) {
  const id = value.slice(2);
  if (value.startsWith('h:')) return { huntGroupId: id };
  if (value.startsWith('a:')) return { autoAttendantId: id };
  return { subscriberId: id };
}

/** The select value of what a number rings. */
function targetValue(n: PhoneNumber): string {
  if (n.huntGroupId) return `h:${n.huntGroupId}`;
  if (n.autoAttendantId) return `a:${n.autoAttendantId}`;
  return `s:${n.subscriberId}`;
}

/** The select options: the subscribers, hunt groups and auto-attendants a number can ring. */
function targetOptions(subscribers: Subscriber[], huntGroups: HuntGroup[], attendants: Attendant[]) {
  return [
    ...subscribers.map((s) => ({ value: `s:${s.id}`, label: s.sipUri })),
    ...huntGroups.map((g) => ({ value: `h:${g.id}`, label: `Hunt group ${g.sipUri}` })),
    ...attendants.map((a) => ({ value: `a:${a.id}`, label: `Auto-attendant ${a.sipUri}` })),
  ];
}

export const NumberForm = z.object({
  /** `s:`, `h:` or `a:` and the id (a hunt group's or an attendant's number is never primary). */
  subscriberId: z.string().regex(TARGET, 'Choose a subscriber, a hunt group or an auto-attendant'),
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
 * A number keeps its digits; what changes is what it rings (a subscriber, `s:<id>`, a hunt group,
 * `h:<id>`, or an auto-attendant, `a:<id>`) and whether it is that subscriber's primary (a group's or
 * an attendant's number never is).
 */
export const NumberEditForm = z.object({
  subscriberId: z.string().regex(TARGET, 'Choose a subscriber, a hunt group or an auto-attendant'),
  isPrimary: z.boolean(),
});

/** The PATCH body of an edited number: only a subscriber's number can be primary. */
function numberPatch(v: z.infer<typeof NumberEditForm>) {
  const target = targetOf(v.subscriberId);
  return 'subscriberId' in target ? { ...target, isPrimary: v.isPrimary } : target;
}

function NumberEditor(props: {
  number: PhoneNumber;
  subscribers: Subscriber[];
  huntGroups: HuntGroup[];
  attendants: Attendant[];
  onDone: () => void;
}) {
  const api = useApi();
  const target = targetValue(props.number);
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
        data={targetOptions(props.subscribers, props.huntGroups, props.attendants)}
      />
      <Checkbox label="Primary number of the subscriber" {...form.register('isPrimary')} />
    </EditPanel>
  );
}

/** PSTN numbers (DIDs) and the subscriber, hunt group or auto-attendant each one rings. */
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
  const attendants = useQuery({
    queryKey: ['auto-attendants', 'for-numbers'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/auto-attendants', { params: { query: { perPage: 500 } } })),
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
            ...targetOf(v.subscriberId),
            countryCode: v.countryCode,
            subscriberNumber: v.subscriberNumber,
            ...(v.areaCode ? { areaCode: v.areaCode } : {}),
            ...(v.isPrimary === 'auto' || !v.subscriberId.startsWith('s:')
              ? {}
              : { isPrimary: v.isPrimary === 'yes' }),
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
  const attendantUriOf = new Map((attendants.data?.items ?? []).map((a) => [a.id, a.sipUri]));
  const targets = targetOptions(
    subscribers.data?.items ?? [],
    huntGroups.data?.items ?? [],
    attendants.data?.items ?? [],
  );
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
                label="Rings"
                {...form.register('subscriberId')}
                error={err.subscriberId?.message}
                data={recordOptions(
                  subscribers.data && targets.map((t) => ({ id: t.value, name: t.label })),
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
          attendants={attendants.data?.items ?? []}
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
                : r.autoAttendantId
                  ? `Auto-attendant ${attendantUriOf.get(r.autoAttendantId) ?? r.autoAttendantId}`
                  : `Hunt group ${groupUriOf.get(r.huntGroupId ?? '') ?? r.huntGroupId}`,
          },
          { header: 'Primary', cell: (r) => (r.isPrimary ? 'yes' : 'no') },
        ]}
      />
    </Stack>
  );
}
