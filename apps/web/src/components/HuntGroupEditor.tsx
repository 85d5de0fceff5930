import { zodResolver } from '@hookform/resolvers/zod';
import { Button, Card, Checkbox, Group, NativeSelect, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { AddressOwnerFields, useAddressOwners } from './AddressOwnerFields.tsx';
import { DataTable } from './DataTable.tsx';
import { EditButton, EditPanel, useSaveThenClose } from './EditPanel.tsx';
import { FormAlert } from './FormAlert.tsx';
import { choiceField, choices, textField } from './fields.ts';
import { usePagedList } from './paging.ts';
import { DeleteButton } from './RecordActions.tsx';

type HuntGroup = ItemOf<'/api/v1/hunt-groups'>;
type Subscriber = ItemOf<'/api/v1/subscribers'>;

const STRATEGY_LABELS: Record<string, string> = {
  parallel: 'All at once',
  sequential: 'One after the other',
  round_robin: 'Round robin',
};
const STRATEGIES = choices('createHuntGroup', 'strategy').map((value) => ({
  value,
  label: STRATEGY_LABELS[value] ?? value,
}));

/**
 * Where an unanswered call goes: empty (nowhere), a phone number, a sip: address or user name, or
 * `voicemail:<user name>` (that phone's voicemail box).
 */
const NoAnswer = z
  .string()
  .trim()
  .regex(
    /^(|\+?\d{1,32}|(sips?:|voicemail:)?[^\s@:]+(@[^\s@]+)?)$/,
    'A phone number, a sip: address or a user name',
  );

/** What the form shows of a group's no-answer destination. */
const noAnswerText = (group: { noAnswerKind: string | null; noAnswerDestination: string | null }): string =>
  group.noAnswerKind === 'voicemail'
    ? `voicemail:${group.noAnswerDestination ?? ''}`
    : (group.noAnswerDestination ?? '');

const Settings = z.object({
  name: textField('createHuntGroup', 'name', { required: 'Give the group a name' }),
  strategy: choiceField('createHuntGroup', 'strategy'),
  ringTimeout: z.coerce.number().int().min(5).max(300),
  noAnswer: NoAnswer,
});
export const HuntGroupForm = Settings.extend({
  customerId: z.string(),
  domainId: textField('createHuntGroup', 'domainId', { required: 'Choose a domain' }),
  username: textField('createHuntGroup', 'username', {
    required: 'Choose the user name callers dial',
    invalid: 'Letters, digits and - _ . only',
  }),
});

/** The no-answer destination as the API takes it: digits are a number, anything else a uri. */
function noAnswerBody(value: string) {
  const v = value.trim();
  if (v === '') return { noAnswerKind: null, noAnswerDestination: null };
  if (v.startsWith('voicemail:'))
    return { noAnswerKind: 'voicemail' as const, noAnswerDestination: v.slice('voicemail:'.length) };
  return {
    noAnswerKind: /^\+?\d+$/.test(v) ? ('number' as const) : ('uri' as const),
    noAnswerDestination: v,
  };
}

/**
 * Members in ring order: ticking a phone adds it at the end, unticking removes it. Only the phones of
 * the group's customer are offered (the API refuses any other).
 */
function MemberPicker(props: {
  subscribers: Subscriber[];
  value: string[];
  onChange: (members: string[]) => void;
}) {
  const uri = new Map(props.subscribers.map((s) => [s.id, s.sipUri]));
  return (
    <Stack gap={4} w="100%">
      <Text size="sm" fw={500}>
        Members
      </Text>
      <Group>
        {props.subscribers.map((s) => (
          <Checkbox
            key={s.id}
            label={s.sipUri}
            checked={props.value.includes(s.id)}
            onChange={(e) =>
              props.onChange(
                e.currentTarget.checked ? [...props.value, s.id] : props.value.filter((id) => id !== s.id),
              )
            }
          />
        ))}
      </Group>
      <Text size="sm" c="dimmed" aria-live="polite">
        Ring order: {props.value.map((id) => uri.get(id) ?? id).join(', ') || 'nobody yet'}
      </Text>
    </Stack>
  );
}

/** The customer's phones, for the member choice. */
function useCustomerSubscribers(customerId: string) {
  const api = useApi();
  return useQuery({
    queryKey: ['subscribers', 'for-hunt-groups', customerId],
    enabled: customerId !== '',
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 500, customerId } } })),
  });
}

/** Changes an existing group: everything but its address and customer. */
function HuntGroupEditPanel({ group, onDone }: { group: HuntGroup; onDone: () => void }) {
  const api = useApi();
  const subscribers = useCustomerSubscribers(group.customerId);
  const [members, setMembers] = useState(group.members.map((m) => m.subscriberId));
  const [enabled, setEnabled] = useState(group.enabled);
  const form = useForm({
    resolver: zodResolver(Settings),
    defaultValues: {
      name: group.name,
      strategy: group.strategy,
      ringTimeout: group.ringTimeout,
      noAnswer: noAnswerText(group),
    },
  });
  const save = useSaveThenClose(['hunt-groups'], onDone, async (v: z.output<typeof Settings>) =>
    unwrap(
      await api.PATCH('/api/v1/hunt-groups/{id}', {
        params: { path: { id: group.id } },
        body: {
          name: v.name,
          strategy: v.strategy,
          ringTimeout: v.ringTimeout,
          enabled,
          members,
          ...noAnswerBody(v.noAnswer),
        },
      }),
    ),
  );
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit hunt group ${group.sipUri}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Name" {...form.register('name')} error={err.name?.message} />
      <NativeSelect label="Ring" {...form.register('strategy')} data={STRATEGIES} />
      <TextInput
        label="Ring time (seconds)"
        type="number"
        {...form.register('ringTimeout')}
        error={err.ringTimeout?.message}
        w={150}
      />
      <TextInput label="When nobody answers" {...form.register('noAnswer')} error={err.noAnswer?.message} />
      <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
      <MemberPicker subscribers={subscribers.data?.items ?? []} value={members} onChange={setMembers} />
    </EditPanel>
  );
}

/**
 * Lists the hunt groups in scope and adds, changes or removes them: a customer its own, a reseller
 * its customers', an operator all (choosing the customer of a new group).
 */
export function HuntGroupEditor() {
  const api = useApi();
  const queryClient = useQueryClient();
  const owners = useAddressOwners('hunt-groups');
  const provider = owners.provider;
  const groups = usePagedList(
    ['hunt-groups'],
    async (query) => unwrap(await api.GET('/api/v1/hunt-groups', { params: { query } })),
    { defaultSort: 'username' },
  );
  const form = useForm({
    resolver: zodResolver(HuntGroupForm),
    defaultValues: {
      customerId: '',
      domainId: '',
      username: '',
      name: '',
      strategy: 'parallel' as const,
      ringTimeout: 20,
      noAnswer: '',
    },
  });
  const customerId = provider ? form.watch('customerId') : owners.ownCustomerId;
  const subscribers = useCustomerSubscribers(customerId);
  const [members, setMembers] = useState<string[]>([]);
  const create = useMutation({
    mutationFn: async (v: z.output<typeof HuntGroupForm>) =>
      unwrap(
        await api.POST('/api/v1/hunt-groups', {
          body: {
            ...(provider ? { customerId: v.customerId } : {}),
            domainId: v.domainId,
            username: v.username,
            name: v.name,
            strategy: v.strategy,
            ringTimeout: v.ringTimeout,
            members,
            ...noAnswerBody(v.noAnswer),
          },
        }),
      ),
    onSuccess: () => {
      form.reset();
      setMembers([]);
      return queryClient.invalidateQueries({ queryKey: ['hunt-groups'] });
    },
  });
  const [editing, setEditing] = useState<string | null>(null);
  const editingGroup = groups.query.data?.items.find((g) => g.id === editing);
  const err = form.formState.errors;
  return (
    <Stack>
      <Card withBorder>
        <form onSubmit={form.handleSubmit((v) => create.mutate(v))} noValidate aria-label="New hunt group">
          <Stack>
            <Title order={2} size="h4">
              New hunt group
            </Title>
            <FormAlert error={create.error} />
            <Group align="flex-end">
              <AddressOwnerFields
                owners={owners}
                fields={{
                  customerId: form.register('customerId'),
                  domainId: form.register('domainId'),
                  username: form.register('username'),
                  name: form.register('name'),
                }}
                errors={err}
              />
              <NativeSelect label="Ring" {...form.register('strategy')} data={STRATEGIES} />
              <TextInput
                label="Ring time (seconds)"
                type="number"
                {...form.register('ringTimeout')}
                error={err.ringTimeout?.message}
                w={150}
              />
              <TextInput
                label="When nobody answers"
                {...form.register('noAnswer')}
                error={err.noAnswer?.message}
              />
            </Group>
            <MemberPicker subscribers={subscribers.data?.items ?? []} value={members} onChange={setMembers} />
            <Group>
              <Button type="submit" loading={create.isPending}>
                Save hunt group
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      {editingGroup && (
        <HuntGroupEditPanel key={editingGroup.id} group={editingGroup} onDone={() => setEditing(null)} />
      )}
      <DataTable
        caption="Hunt groups"
        rows={groups.query.data?.items}
        error={groups.query.error}
        paging={groups.paging}
        sort={groups.sorting}
        empty="No hunt groups."
        columns={[
          { header: 'Address', cell: (r) => r.sipUri, sortKey: 'username' },
          { header: 'Name', cell: (r) => r.name, sortKey: 'name' },
          { header: 'Ring', cell: (r) => STRATEGY_LABELS[r.strategy] ?? r.strategy },
          { header: 'Ring time', cell: (r) => `${r.ringTimeout} s` },
          { header: 'Members', cell: (r) => String(r.members.length) },
          { header: 'No answer', cell: (r) => noAnswerText(r) || '–' },
          { header: 'On', cell: (r) => (r.enabled ? 'yes' : 'no') },
          {
            header: 'Actions',
            cell: (r) => (
              <Group gap="xs" wrap="nowrap">
                <EditButton what={`hunt group ${r.sipUri}`} onClick={() => setEditing(r.id)} />
                <DeleteButton
                  what={`hunt group ${r.sipUri}`}
                  path={`/api/v1/hunt-groups/${r.id}`}
                  onDeleted={() => queryClient.invalidateQueries({ queryKey: ['hunt-groups'] })}
                />
              </Group>
            ),
          },
        ]}
      />
    </Stack>
  );
}
