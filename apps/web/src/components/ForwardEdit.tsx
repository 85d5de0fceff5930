import { zodResolver } from '@hookform/resolvers/zod';
import { Checkbox, TextInput } from '@mantine/core';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { EditPanel, useSaveThenClose } from './EditPanel.tsx';

type Forward = ItemOf<'/api/v1/call-forwards'>;

/**
 * Where a forward goes: a number, a sip: address (the form tells them apart by the prefix) or the
 * word `voicemail` (the phone's own voicemail box).
 */
export const ForwardDestination = z
  .string()
  .trim()
  .regex(
    /^(\+?\d{2,20}|sips?:[^\s@]+@[^\s]+|voicemail)$/i,
    'A phone number (digits, optional +), a sip: address or "voicemail"',
  );

/** The API's destination of what the form's field says. */
export function destinationOf(value: string): {
  kind: 'uri' | 'number' | 'voicemail';
  destination: string;
} {
  if (/^voicemail$/i.test(value)) return { kind: 'voicemail', destination: '' };
  return { kind: value.startsWith('sip') ? 'uri' : 'number', destination: value };
}

/** What the form's field shows of a destination. */
export const destinationText = (d: { kind: string; destination: string }): string =>
  d.kind === 'voicemail' ? 'voicemail' : d.destination;
/** Seconds a "when not answered" forward rings first; the form offers a practical part of the API's range. */
export const RingTime = z.coerce.number().int().min(5).max(300);

export const ForwardEditForm = z.object({
  destination: ForwardDestination,
  ringTimeout: RingTime,
  enabled: z.boolean(),
});

/** The ring time a forward waits before it applies (only "when not answered" waits). */
export function ringTimeText(forward: Forward): string {
  if (forward.type !== 'cft') return '–';
  return forward.ringTimeout === null ? 'default' : `${forward.ringTimeout} s`;
}

/** Changes an existing forward: its target, ring time and whether it is on. The kind (when) stays. */
export function ForwardEditPanel({
  forward,
  label,
  onDone,
}: {
  forward: Forward;
  label: string;
  onDone: () => void;
}) {
  const api = useApi();
  const form = useForm({
    resolver: zodResolver(ForwardEditForm),
    defaultValues: {
      destination: forward.destinations[0] ? destinationText(forward.destinations[0]) : '',
      ringTimeout: forward.ringTimeout ?? 20,
      enabled: forward.enabled,
    },
  });
  const save = useSaveThenClose(['call-forwards'], onDone, async (v: z.output<typeof ForwardEditForm>) =>
    unwrap(
      await api.PATCH('/api/v1/call-forwards/{id}', {
        params: { path: { id: forward.id } },
        body: {
          enabled: v.enabled,
          ringTimeout: v.ringTimeout,
          destinations: [destinationOf(v.destination)],
        },
      }),
    ),
  );
  const err = form.formState.errors;
  return (
    <EditPanel
      title={`Edit forward ${label}`}
      onSubmit={form.handleSubmit((v) => save.mutate(v))}
      onCancel={onDone}
      error={save.error}
      saving={save.isPending}
    >
      <TextInput label="Forward to" {...form.register('destination')} error={err.destination?.message} />
      <TextInput
        label="Ring time (seconds)"
        type="number"
        {...form.register('ringTimeout')}
        error={err.ringTimeout?.message}
        w={150}
      />
      <Checkbox label="Enabled" {...form.register('enabled')} />
    </EditPanel>
  );
}
