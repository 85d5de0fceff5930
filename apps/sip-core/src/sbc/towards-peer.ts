import { type LegProfile, profiles } from '@switchboard/media';
import {
  applyHeaderRules,
  type CompiledHeaderRule,
  type RouteTarget,
  type RuleContext,
} from '@switchboard/numbering';
import type { ActiveCalls } from '../calls/active-calls.ts';
import type {
  CallTarget,
  InDialogHeaders,
  LegClaim,
  OutgoingRequest,
  ReceivedHeaders,
} from '../calls/call-types.ts';
import type { PeerPolicyView, SbcIndex } from './sbc-index.ts';

/** What the SBC adds to a gateway's B leg: admission, the request's last rewrite, the duration cap. */
export type PeerLeg = Pick<CallTarget, 'claim' | 'rewrite' | 'maxDurationS' | 'inDialog' | 'fromPeer'> & {
  /** The gateway's media leg: a public peer with the codec policy of offers towards it. */
  profile: LegProfile;
  /** SDP towards the peer loses the caller's origin username. */
  hidesTopology: boolean;
};

/** The SBC's part of every gateway leg of one call (made once per call, in the present stage). */
export type PeerLegFactory = (
  gateway: RouteTarget,
  call: { caller?: string | undefined; callee: string; domain: string },
) => PeerLeg;

/**
 * Headers of the caller's side a B2BUA may pass on to a peer when topology hiding is off: the
 * custom `X-` headers and the caller's User-Agent. Everything else of the A leg (Via, Record-Route,
 * Contact, Call-ID) never crosses: the B leg is a new dialog of the platform's own (RFC 3261 §6, B2BUA).
 */
export function passThroughHeaders(entries: ReadonlyArray<[string, string]>): Array<[string, string]> {
  return entries.filter(([name]) => /^x-/i.test(name) || name.toLowerCase() === 'user-agent');
}

/**
 * Headers topology hiding removes from whatever goes to a peer, should a header rule or a later
 * change copy one in: the other side's addresses and names (docs/sbc.md, "Topology hiding").
 */
const HIDDEN = /^(user-agent|server|record-route|x-.*)$/i;

function smallest(...values: Array<number | undefined>): number | undefined {
  const set = values.filter((v): v is number => typeof v === 'number' && v > 0);
  return set.length > 0 ? Math.min(...set) : undefined;
}

/** Room for one more call through `gateway` and its group; counted until released. */
export function claimPeer(calls: ActiveCalls, gateway: RouteTarget, policy: PeerPolicyView): LegClaim {
  const admission = calls.admitScopes([
    {
      scope: 'gateway',
      id: gateway.gatewayId,
      maxConcurrent: policy.gateway.maxConcurrentCalls,
      maxPerSecond: policy.gateway.maxCallsPerSecond,
    },
    {
      scope: 'group',
      id: gateway.groupId,
      maxConcurrent: policy.group.maxConcurrentCalls,
      maxPerSecond: policy.group.maxCallsPerSecond,
    },
  ]);
  if (!admission.ok) return admission;
  return {
    ok: true,
    release: calls.holdPeer({ gatewayId: gateway.gatewayId, groupId: gateway.groupId }),
  };
}

/**
 * The B leg's INVITE as it leaves towards the peer: the caller's pass-through headers (topology
 * hiding off only), the outbound header rules, then topology hiding's scrub of what must never
 * leave, except headers the rules themselves added (the operator's word is last).
 */
export function outgoingRequest(
  request: OutgoingRequest,
  rules: readonly CompiledHeaderRule[],
  context: RuleContext,
  hiding: boolean,
  passThrough: ReadonlyArray<[string, string]>,
): OutgoingRequest {
  const headers: Array<[string, string]> = Object.entries(request.headers);
  if (!hiding) headers.push(...passThrough);
  const before = hiding ? headers.filter(([name]) => !HIDDEN.test(name)) : headers;
  const { message } = applyHeaderRules(
    rules,
    { method: 'INVITE', requestUri: request.uri, headers: before },
    context,
  );
  return { uri: message.requestUri, headers: headerRecord(message.headers) };
}

/** Header entries as one record, repeated names joined (RFC 3261 §7.3.1). */
function headerRecord(entries: ReadonlyArray<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    const key = Object.keys(out).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    out[key] = out[key] === undefined ? value : `${out[key]}, ${value}`;
  }
  return out;
}

/**
 * The headers of an in-dialog request (BYE, re-INVITE, UPDATE) or of a response to one that the
 * B2BUA sends to a peer: the B2BUA builds it afresh in the peer's dialog (its own Via, Contact,
 * Call-ID; RFC 3261 §12.2.1.1), so only what the other leg's request may pass crosses: its
 * pass-through headers when topology hiding is off. The outbound header rules then run on it with
 * its method; with topology hiding on, whatever is left comes from the rules.
 */
export function inDialogHeaders(
  rules: readonly CompiledHeaderRule[],
  context: RuleContext,
  hiding: boolean,
  method: string,
  received: ReadonlyArray<[string, string]> = [],
): Record<string, string> {
  const crossing = hiding ? [] : passThroughHeaders(received);
  if (rules.length === 0) return headerRecord(crossing);
  // In a dialog the Request-URI is the peer's target (RFC 3261 §12.2.1.1): rules on it do not apply.
  const { message } = applyHeaderRules(
    rules,
    { method, requestUri: 'sip:peer.invalid', headers: crossing },
    context,
  );
  return headerRecord(message.headers);
}

/**
 * A peer's inbound header rules on the in-dialog requests it sends us (BYE, re-INVITE, UPDATE; the
 * ones its `method` condition picks), before anything of them crosses to the other side: what they
 * leave is what the other side's request starts from (its pass-through headers, `inDialogHeaders`),
 * as the rules on its first INVITE decide what the call reads. Undefined without rules.
 */
export function receivedFromPeer(
  rules: readonly CompiledHeaderRule[],
  context: RuleContext,
): ReceivedHeaders | undefined {
  if (rules.length === 0) return undefined;
  return (method, received) =>
    applyHeaderRules(rules, { method, requestUri: 'sip:peer.invalid', headers: [...received] }, context)
      .message.headers;
}

/**
 * The SBC's part of the dialog with a peer that called us (its INVITE came from `peer`): the headers
 * of every in-dialog request and response sent back to it, by the outbound rules bound to the peer,
 * its group and the called `domain`.
 */
export function callingPeerDialog(
  sbc: SbcIndex,
  peer: { gatewayId?: string | undefined; groupId?: string | undefined },
  call: { caller?: string | undefined; callee?: string | undefined; domain?: string | undefined },
): InDialogHeaders {
  const policy = sbc.policyOf(peer.gatewayId, peer.groupId, call.domain);
  const rules = sbc.rulesFor('outbound', peer, call.domain);
  const context: RuleContext = { direction: 'outbound', caller: call.caller, callee: call.callee };
  return (method, received) => inDialogHeaders(rules, context, policy.topologyHiding, method, received);
}

/**
 * The SBC's part of a call's gateway legs: `calls` counts them for call admission control, `sbc`
 * holds the rules and policies (in memory, following the change feed).
 */
export function peerLegFactory(
  sbc: SbcIndex,
  calls: ActiveCalls,
  passThrough: ReadonlyArray<[string, string]>,
): PeerLegFactory {
  return (gateway, call) => {
    const policy = sbc.policyOf(gateway.gatewayId, gateway.groupId, call.domain);
    const rules = sbc.rulesFor('outbound', gateway, call.domain);
    const context: RuleContext = { direction: 'outbound', caller: call.caller, callee: call.callee };
    return {
      claim: () => claimPeer(calls, gateway, policy),
      rewrite: (request) => outgoingRequest(request, rules, context, policy.topologyHiding, passThrough),
      inDialog: (method, received) =>
        inDialogHeaders(rules, context, policy.topologyHiding, method, received),
      fromPeer: receivedFromPeer(sbc.rulesFor('inbound', gateway, call.domain), {
        direction: 'inbound',
        sourceAddress: gateway.host,
        caller: call.caller,
        callee: call.callee,
      }),
      maxDurationS: smallest(policy.gateway.maxCallDuration, policy.group.maxCallDuration),
      hidesTopology: policy.topologyHiding,
      profile: policy.codecs ? { ...profiles.publicPeer, codecs: policy.codecs } : profiles.publicPeer,
    };
  };
}
