import { Checkbox, Loader, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { FieldErrors, UseFormRegisterReturn } from 'react-hook-form';
import { z } from 'zod';
import { type ItemOf, unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { type PeerLimitsValues, peerLimitsBody, setsAnyLimit } from './PeerLimitsFields.tsx';

/**
 * The codec policy fields of a domain, a peering group and a gateway (docs/sbc.md, "Codec policy"),
 * one form section for all three. Codec names are typed as a comma-separated list; the API checks
 * them and names an unknown one in its answer (`codecAllow/1`), which the form's alert shows.
 */

export type PeerPolicy = ItemOf<'/api/v1/peer-policies'>;
type CodecName = PeerPolicy['codecAllow'][number];
type TranscodeName = PeerPolicy['codecTranscode'][number];

export const CodecPolicyForm = z.object({
  codecAllow: z.string(),
  codecStrip: z.string(),
  codecMask: z.string(),
  codecTranscode: z.string(),
  ptime: z.string().regex(/^(|[1-9][0-9]{0,2})$/, 'Milliseconds, e.g. 20'),
  dtmfEvents: z.boolean(),
  dtmfInfo: z.boolean(),
});
export type CodecPolicyValues = z.infer<typeof CodecPolicyForm>;

/** The stored columns (a domain has no `dtmfInfo`). */
interface CodecPolicyRow {
  codecAllow: string[];
  codecStrip: string[];
  codecMask: string[];
  codecTranscode: string[];
  ptime: number | null;
  dtmfEvents: boolean | null;
  dtmfInfo?: boolean | null;
}

/** A comma-separated codec list as typed. */
function codecList(text: string): CodecName[] {
  return text
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0) as CodecName[];
}

/** The form's values of a stored policy; none stored: all empty (inherit). */
export function codecPolicyValues(row: CodecPolicyRow | undefined): CodecPolicyValues {
  return {
    codecAllow: row?.codecAllow.join(', ') ?? '',
    codecStrip: row?.codecStrip.join(', ') ?? '',
    codecMask: row?.codecMask.join(', ') ?? '',
    codecTranscode: row?.codecTranscode.join(', ') ?? '',
    ptime: row?.ptime == null ? '' : String(row.ptime),
    dtmfEvents: row?.dtmfEvents === true,
    dtmfInfo: row?.dtmfInfo === true,
  };
}

/** The API's fields of the form's values: empty lists and unset switches inherit (null). */
export function codecPolicyBody(v: CodecPolicyValues) {
  return {
    codecAllow: codecList(v.codecAllow),
    codecStrip: codecList(v.codecStrip),
    codecMask: codecList(v.codecMask),
    codecTranscode: codecList(v.codecTranscode) as TranscodeName[],
    ptime: v.ptime === '' ? null : Number(v.ptime),
    dtmfEvents: v.dtmfEvents ? true : null,
  };
}

/** Whether the values set anything (a peer without a stored policy gets one only then). */
function setsAnything(v: CodecPolicyValues): boolean {
  const { dtmfEvents, dtmfInfo, ...texts } = v;
  return dtmfEvents || dtmfInfo || Object.values(texts).some((t) => t.trim() !== '');
}

type CodecPath = `codecs.${keyof CodecPolicyValues}`;

/**
 * The section itself, for a form whose values hold the policy under `codecs`. `peer`: a gateway's or
 * group's form, which also has how the peer signals DTMF.
 */
export function CodecPolicyFields(props: {
  title: ReactNode;
  register: (name: CodecPath) => UseFormRegisterReturn;
  errors: FieldErrors<CodecPolicyValues> | undefined;
  inherits: string;
  peer?: boolean;
}) {
  const { register } = props;
  return (
    <>
      <Title order={3} size="h5">
        {props.title}
      </Title>
      <TextInput
        label="Allowed codecs, in order"
        description={`Comma-separated, e.g. PCMA, PCMU; empty: ${props.inherits}`}
        {...register('codecs.codecAllow')}
      />
      <TextInput label="Strip codecs" {...register('codecs.codecStrip')} />
      <TextInput
        label="Mask codecs"
        description="Hidden from the carrier, still taken from the phone for transcoding"
        {...register('codecs.codecMask')}
      />
      <TextInput
        label="Transcode to"
        description="Added when the phone's offer lacks them, e.g. PCMA"
        {...register('codecs.codecTranscode')}
      />
      <TextInput label="ptime (ms)" {...register('codecs.ptime')} error={props.errors?.ptime?.message} />
      <Checkbox
        label="Always offer RFC 4733 DTMF events (translated when the phone lacks them)"
        {...register('codecs.dtmfEvents')}
      />
      {props.peer && (
        <Checkbox
          label="The carrier sends DTMF as SIP INFO (played to the caller as RFC 4733 events)"
          {...register('codecs.dtmfInfo')}
        />
      )}
    </>
  );
}

/** Exactly one of the two: the peer a policy is for. */
export type PolicyTarget = { gatewayId: string } | { peeringGroupId: string };

/** The peer's stored policy (null: none yet); an operator's read. */
export function usePeerPolicy(target: PolicyTarget) {
  const api = useApi();
  return useQuery({
    queryKey: ['peer-policies', target],
    queryFn: async () => {
      const page = unwrap(
        await api.GET('/api/v1/peer-policies', { params: { query: { ...target, perPage: 1 } } }),
      );
      return page.items[0] ?? null;
    },
  });
}

/**
 * Saves a peer's policy, its codec section and its topology hiding and limits (PeerLimitsFields): a
 * PATCH of the stored policy, else a new one when the form sets anything. A 400 names the field
 * (`/body/codecAllow/1`, `/body/maxCallsPerSecond`) and the form shows it.
 */
export async function savePeerPolicy(
  api: ReturnType<typeof useApi>,
  target: PolicyTarget,
  stored: PeerPolicy | null,
  v: CodecPolicyValues,
  limits: PeerLimitsValues,
): Promise<void> {
  const body = { ...codecPolicyBody(v), dtmfInfo: v.dtmfInfo ? true : null, ...peerLimitsBody(limits) };
  if (stored) {
    unwrap(await api.PATCH('/api/v1/peer-policies/{id}', { params: { path: { id: stored.id } }, body }));
    return;
  }
  if (!setsAnything(v) && !setsAnyLimit(limits)) return;
  unwrap(await api.POST('/api/v1/peer-policies', { body: { ...target, ...body } }));
}

/** Renders `children` once the peer's policy is read (the form's defaults come from it). */
export function WithPeerPolicy(props: {
  target: PolicyTarget;
  children: (policy: PeerPolicy | null) => ReactNode;
}) {
  const policy = usePeerPolicy(props.target);
  if (policy.data === undefined) return policy.isError ? props.children(null) : <Loader size="sm" />;
  return <>{props.children(policy.data)}</>;
}
