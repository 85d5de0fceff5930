import { zodResolver } from '@hookform/resolvers/zod';
import {
  Button,
  Card,
  Checkbox,
  FileInput,
  Group,
  NativeSelect,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, putAudio, unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { AddressOwnerFields, useAddressOwners } from './AddressOwnerFields.tsx';
import { DataTable } from './DataTable.tsx';
import { EditButton, EditPanel, useSaveThenClose } from './EditPanel.tsx';
import { FormAlert } from './FormAlert.tsx';
import { textField } from './fields.ts';
import { usePagedList } from './paging.ts';
import { DeleteButton } from './RecordActions.tsx';

type Attendant = ItemOf<'/api/v1/auto-attendants'>;
type Kind = Attendant['menu'][number]['kind'];
/**
 * One menu row as the form holds it: the digit and `kind:target` (empty: no entry; `number:` and what is
 * typed so far for a number).
 */
interface MenuRow {
  digit: string;
  destination: string;
}

const DIGITS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];
const KINDS: readonly Kind[] = ['subscriber', 'hunt_group', 'voicemail', 'number'];

const Settings = z.object({
  name: textField('createAutoAttendant', 'name', { required: 'Give the attendant a name' }),
  greetingText: z.string().trim().min(1, 'Type what the greeting says').max(1000),
  digitTimeout: z.coerce.number().int().min(1).max(60),
  maxReplays: z.coerce.number().int().min(0).max(5),
});
const AttendantForm = Settings.extend({
  customerId: z.string(),
  domainId: textField('createAutoAttendant', 'domainId', { required: 'Choose a domain' }),
  username: textField('createAutoAttendant', 'username', {
    required: 'Choose the user name callers dial',
    invalid: 'Letters, digits and - _ . only',
  }),
});

/** `kind:target` back to the API's destination; undefined when nothing is chosen. */
function destinationOf(value: string): { kind: Kind; target: string } | undefined {
  const at = value.indexOf(':');
  const kind = value.slice(0, at) as Kind;
  const target = value.slice(at + 1);
  return at > 0 && KINDS.includes(kind) && target ? { kind, target } : undefined;
}

const menuBody = (rows: MenuRow[]) =>
  rows.flatMap((r) => {
    const d = destinationOf(r.destination);
    return d ? [{ digit: r.digit, ...d }] : [];
  });

/** Every digit with the destination the attendant has for it (empty when none). */
const menuRows = (attendant?: Attendant): MenuRow[] =>
  DIGITS.map((digit) => {
    const entry = attendant?.menu.find((m) => m.digit === digit);
    return { digit, destination: entry ? `${entry.kind}:${entry.target}` : '' };
  });

/** The choice that asks for a number (one of ours, as a user of the attendant's domain dials it). */
const NUMBER = 'number:';

/** The customer's phones, hunt groups and voicemail boxes, and "a number", as destination choices. */
function useDestinations(customerId: string) {
  const api = useApi();
  const subscribers = useQuery({
    queryKey: ['subscribers', 'for-attendants', customerId],
    enabled: customerId !== '',
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/subscribers', { params: { query: { perPage: 500, customerId } } })),
  });
  const groups = useQuery({
    queryKey: ['hunt-groups', 'for-attendants', customerId],
    enabled: customerId !== '',
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/hunt-groups', { params: { query: { perPage: 500, customerId } } })),
  });
  return [
    { value: '', label: '—' },
    ...(groups.data?.items ?? []).map((g) => ({ value: `hunt_group:${g.id}`, label: `Group ${g.sipUri}` })),
    ...(subscribers.data?.items ?? []).map((s) => ({
      value: `subscriber:${s.id}`,
      label: `Phone ${s.sipUri}`,
    })),
    ...(subscribers.data?.items ?? []).map((s) => ({
      value: `voicemail:${s.id}`,
      label: `Voicemail ${s.sipUri}`,
    })),
    { value: NUMBER, label: 'A number…' },
  ];
}

/** One destination: the choice, and for "a number" the number to type. */
function DestinationPicker(props: {
  label: string;
  options: Array<{ value: string; label: string }>;
  value: string;
  onChange: (value: string) => void;
  w: number;
}) {
  const number = props.value.startsWith(NUMBER);
  return (
    <Group gap={4} align="flex-end" wrap="nowrap">
      <NativeSelect
        label={props.label}
        value={number ? NUMBER : props.value}
        data={props.options}
        w={props.w}
        onChange={(e) => props.onChange(e.currentTarget.value)}
      />
      {number && (
        <TextInput
          label={`${props.label}: number`}
          placeholder="+4930123456"
          value={props.value.slice(NUMBER.length)}
          w={160}
          onChange={(e) => props.onChange(`${NUMBER}${e.currentTarget.value.trim()}`)}
        />
      )}
    </Group>
  );
}

/** The menu: for each digit where it sends the caller, and where silence sends it. */
function MenuPicker(props: {
  options: Array<{ value: string; label: string }>;
  rows: MenuRow[];
  onRows: (rows: MenuRow[]) => void;
  timeout: string;
  onTimeout: (value: string) => void;
}) {
  return (
    <Stack gap={4} w="100%">
      <Text size="sm" fw={500}>
        Menu
      </Text>
      <Group>
        {props.rows.map((row, i) => (
          <DestinationPicker
            key={row.digit}
            label={`Digit ${row.digit}`}
            value={row.destination}
            options={props.options}
            w={220}
            onChange={(value) =>
              props.onRows(props.rows.map((r, j) => (j === i ? { ...r, destination: value } : r)))
            }
          />
        ))}
      </Group>
      <DestinationPicker
        label="No digit (timeout, e.g. the operator)"
        value={props.timeout}
        options={props.options}
        w={320}
        onChange={props.onTimeout}
      />
    </Stack>
  );
}

const timeoutBody = (value: string) => {
  const d = destinationOf(value);
  return { timeoutKind: d?.kind ?? null, timeoutTarget: d?.target ?? null };
};

/**
 * The attendant's recorded greeting: an uploaded WAV or MP3 (converted by the API to 8 kHz mono) plays
 * instead of the spoken text until it is removed again.
 */
function GreetingUpload({ attendant }: { attendant: Attendant }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['auto-attendants'] });
  const upload = useMutation({
    mutationFn: (file: File) =>
      putAudio(`/api/v1/auto-attendants/${encodeURIComponent(attendant.id)}/greeting`, file),
    onSuccess: refresh,
  });
  const spoken = useMutation({
    mutationFn: async () => {
      const res = await api.DELETE('/api/v1/auto-attendants/{id}/greeting', {
        params: { path: { id: attendant.id } },
      });
      // 204: no body to unwrap.
      if (!res.response.ok) unwrap(res);
    },
    onSuccess: refresh,
  });
  const uploaded = attendant.greeting === 'uploaded';
  return (
    <Stack gap={4} w="100%">
      <FormAlert error={upload.error ?? spoken.error} />
      <Text size="sm">
        {uploaded ? 'The uploaded recording plays.' : 'The greeting text is spoken by the platform.'}
      </Text>
      <Group align="flex-end">
        <FileInput
          label="Upload a recorded greeting (WAV or MP3)"
          accept="audio/wav,audio/x-wav,audio/mpeg"
          onChange={(file) => file && upload.mutate(file)}
          w={320}
        />
        {uploaded && (
          <Button variant="default" onClick={() => spoken.mutate()} loading={spoken.isPending}>
            Use the spoken greeting
          </Button>
        )}
      </Group>
    </Stack>
  );
}

/** Changes an existing attendant: everything but its address and customer. */
function AttendantEditPanel({ attendant, onDone }: { attendant: Attendant; onDone: () => void }) {
  const api = useApi();
  const options = useDestinations(attendant.customerId);
  const [rows, setRows] = useState(menuRows(attendant));
  const [timeout, setTimeoutValue] = useState(
    attendant.timeoutKind ? `${attendant.timeoutKind}:${attendant.timeoutTarget ?? ''}` : '',
  );
  const [enabled, setEnabled] = useState(attendant.enabled);
  const form = useForm({
    resolver: zodResolver(Settings),
    defaultValues: {
      name: attendant.name,
      greetingText: attendant.greetingText,
      digitTimeout: attendant.digitTimeout,
      maxReplays: attendant.maxReplays,
    },
  });
  const save = useSaveThenClose(['auto-attendants'], onDone, async (v: z.output<typeof Settings>) =>
    unwrap(
      await api.PATCH('/api/v1/auto-attendants/{id}', {
        params: { path: { id: attendant.id } },
        body: { ...v, enabled, menu: menuBody(rows), ...timeoutBody(timeout) },
      }),
    ),
  );
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit auto-attendant ${attendant.sipUri}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Name" {...form.register('name')} error={err.name?.message} />
      <Textarea
        label="Greeting"
        {...form.register('greetingText')}
        error={err.greetingText?.message}
        w="100%"
      />
      <GreetingUpload attendant={attendant} />
      <TextInput label="Digit wait (seconds)" type="number" {...form.register('digitTimeout')} w={150} />
      <TextInput label="Replays after a wrong digit" type="number" {...form.register('maxReplays')} w={200} />
      <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
      <MenuPicker
        options={options}
        rows={rows}
        onRows={setRows}
        timeout={timeout}
        onTimeout={setTimeoutValue}
      />
    </EditPanel>
  );
}

/**
 * Lists the auto-attendants in scope and adds, changes or removes them: a customer its own, a reseller
 * its customers', an operator all (choosing the customer of a new one).
 */
export function AutoAttendantEditor() {
  const api = useApi();
  const queryClient = useQueryClient();
  const owners = useAddressOwners('attendants');
  const provider = owners.provider;
  const attendants = usePagedList(
    ['auto-attendants'],
    async (query) => unwrap(await api.GET('/api/v1/auto-attendants', { params: { query } })),
    { defaultSort: 'username' },
  );
  const form = useForm({
    resolver: zodResolver(AttendantForm),
    defaultValues: {
      customerId: '',
      domainId: '',
      username: '',
      name: '',
      greetingText: 'Welcome. For sales press one. To reach a person, stay on the line.',
      digitTimeout: 5,
      maxReplays: 2,
    },
  });
  const customerId = provider ? form.watch('customerId') : owners.ownCustomerId;
  const options = useDestinations(customerId);
  const [rows, setRows] = useState(menuRows());
  const [timeout, setTimeoutValue] = useState('');
  const create = useMutation({
    mutationFn: async (v: z.output<typeof AttendantForm>) =>
      unwrap(
        await api.POST('/api/v1/auto-attendants', {
          body: {
            ...(provider ? { customerId: v.customerId } : {}),
            domainId: v.domainId,
            username: v.username,
            name: v.name,
            greetingText: v.greetingText,
            digitTimeout: v.digitTimeout,
            maxReplays: v.maxReplays,
            menu: menuBody(rows),
            ...timeoutBody(timeout),
          },
        }),
      ),
    onSuccess: () => {
      form.reset();
      setRows(menuRows());
      setTimeoutValue('');
      return queryClient.invalidateQueries({ queryKey: ['auto-attendants'] });
    },
  });
  const [editing, setEditing] = useState<string | null>(null);
  const editingAttendant = attendants.query.data?.items.find((a) => a.id === editing);
  const err = form.formState.errors;
  return (
    <Stack>
      <Card withBorder>
        <form
          onSubmit={form.handleSubmit((v) => create.mutate(v))}
          noValidate
          aria-label="New auto-attendant"
        >
          <Stack>
            <Title order={2} size="h4">
              New auto-attendant
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
              <TextInput
                label="Digit wait (seconds)"
                type="number"
                {...form.register('digitTimeout')}
                w={150}
              />
              <TextInput
                label="Replays after a wrong digit"
                type="number"
                {...form.register('maxReplays')}
                w={200}
              />
            </Group>
            <Textarea
              label="Greeting (spoken by the platform; a recording can be uploaded once the attendant is saved)"
              {...form.register('greetingText')}
              error={err.greetingText?.message}
            />
            <MenuPicker
              options={options}
              rows={rows}
              onRows={setRows}
              timeout={timeout}
              onTimeout={setTimeoutValue}
            />
            <Group>
              <Button type="submit" loading={create.isPending}>
                Save auto-attendant
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      {editingAttendant && (
        <AttendantEditPanel
          key={editingAttendant.id}
          attendant={editingAttendant}
          onDone={() => setEditing(null)}
        />
      )}
      <DataTable
        caption="Auto-attendants"
        rows={attendants.query.data?.items}
        error={attendants.query.error}
        paging={attendants.paging}
        sort={attendants.sorting}
        empty="No auto-attendants."
        columns={[
          { header: 'Address', cell: (r) => r.sipUri, sortKey: 'username' },
          { header: 'Name', cell: (r) => r.name, sortKey: 'name' },
          { header: 'Digits', cell: (r) => r.menu.map((m) => m.digit).join(' ') || '–' },
          { header: 'Timeout', cell: (r) => (r.timeoutKind ? r.timeoutKind.replace('_', ' ') : '–') },
          { header: 'Greeting', cell: (r) => r.greeting },
          { header: 'On', cell: (r) => (r.enabled ? 'yes' : 'no') },
          {
            header: 'Actions',
            cell: (r) => (
              <Group gap="xs" wrap="nowrap">
                <EditButton what={`auto-attendant ${r.sipUri}`} onClick={() => setEditing(r.id)} />
                <DeleteButton
                  what={`auto-attendant ${r.sipUri}`}
                  path={`/api/v1/auto-attendants/${r.id}`}
                  onDeleted={() => queryClient.invalidateQueries({ queryKey: ['auto-attendants'] })}
                />
              </Group>
            ),
          },
        ]}
      />
    </Stack>
  );
}
