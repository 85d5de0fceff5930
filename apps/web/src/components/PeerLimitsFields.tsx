import { NativeSelect, TextInput, Title } from '@mantine/core';
import type { FieldErrors, UseFormRegisterReturn } from 'react-hook-form';
import { z } from 'zod';
import type { PeerPolicy } from './CodecPolicyFields.tsx';

/**
 * Topology hiding and call admission limits of a gateway's or a peering group's peer policy
 * (docs/sbc.md, "Topology hiding", "Call admission control"), the policy's other section beside the
 * codecs. Empty limits are unlimited; topology hiding `inherit` takes the group's (a group's: on).
 */

const LIMIT = /^(|[1-9][0-9]{0,6})$/;
const limitField = () => z.string().trim().regex(LIMIT, 'A whole number from 1, or empty for no limit');

export const PeerLimitsForm = z.object({
  topologyHiding: z.enum(['inherit', 'on', 'off']),
  maxConcurrentCalls: limitField(),
  maxCallsPerSecond: limitField(),
  maxCallDuration: limitField(),
});
export type PeerLimitsValues = z.infer<typeof PeerLimitsForm>;

type LimitsRow = Pick<
  PeerPolicy,
  'topologyHiding' | 'maxConcurrentCalls' | 'maxCallsPerSecond' | 'maxCallDuration'
>;

const text = (value: number | null | undefined): string => (value == null ? '' : String(value));
const limit = (value: string): number | null => (value.trim() === '' ? null : Number(value));

/** The form's values of a stored policy; none stored: inherit and unlimited. */
export function peerLimitsValues(row: LimitsRow | undefined): PeerLimitsValues {
  const hiding = row?.topologyHiding;
  return {
    topologyHiding: hiding == null ? 'inherit' : hiding ? 'on' : 'off',
    maxConcurrentCalls: text(row?.maxConcurrentCalls),
    maxCallsPerSecond: text(row?.maxCallsPerSecond),
    maxCallDuration: text(row?.maxCallDuration),
  };
}

/** The API's fields of the form's values (null: inherit or unlimited). */
export function peerLimitsBody(v: PeerLimitsValues) {
  return {
    topologyHiding: v.topologyHiding === 'inherit' ? null : v.topologyHiding === 'on',
    maxConcurrentCalls: limit(v.maxConcurrentCalls),
    maxCallsPerSecond: limit(v.maxCallsPerSecond),
    maxCallDuration: limit(v.maxCallDuration),
  };
}

/** Whether the values set anything (a peer without a stored policy gets one only then). */
export function setsAnyLimit(v: PeerLimitsValues): boolean {
  const { topologyHiding, ...limits } = v;
  return topologyHiding !== 'inherit' || Object.values(limits).some((t) => t.trim() !== '');
}

type LimitsPath = `limits.${keyof PeerLimitsValues}`;

/** The section itself, for a form whose values hold it under `limits`. */
export function PeerLimitsFields(props: {
  register: (name: LimitsPath) => UseFormRegisterReturn;
  errors: FieldErrors<PeerLimitsValues> | undefined;
  /** What `inherit` means for this peer. */
  inherits: string;
}) {
  const { register, errors } = props;
  return (
    <>
      <Title order={3} size="h5">
        Topology hiding and limits
      </Title>
      <NativeSelect
        label="Topology hiding"
        description={`Inherit: ${props.inherits}`}
        data={[
          { value: 'inherit', label: 'Inherit' },
          { value: 'on', label: 'On: no X- headers, User-Agent or SDP user name of the caller' },
          { value: 'off', label: "Off: the caller's X- headers and User-Agent pass" },
        ]}
        {...register('limits.topologyHiding')}
      />
      <TextInput
        label="Concurrent calls"
        description="Empty: unlimited"
        inputMode="numeric"
        {...register('limits.maxConcurrentCalls')}
        error={errors?.maxConcurrentCalls?.message}
      />
      <TextInput
        label="New calls per second"
        description="Empty: unlimited"
        inputMode="numeric"
        {...register('limits.maxCallsPerSecond')}
        error={errors?.maxCallsPerSecond?.message}
      />
      <TextInput
        label="Longest call (seconds)"
        description="Empty: unlimited"
        inputMode="numeric"
        {...register('limits.maxCallDuration')}
        error={errors?.maxCallDuration?.message}
      />
    </>
  );
}
