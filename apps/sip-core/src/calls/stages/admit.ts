import type { PeerLimits } from '../../sbc/sbc-index.ts';
import type { IncomingRequest, Middleware } from '../../sip/request.ts';
import type { ScopeLimit } from '../active-calls.ts';
import type { CallsConfig } from '../calls-config.ts';
import { countedParty, type Party, partyOf } from '../party.ts';
import type { InvitePlan } from '../plan.ts';
import { type InviteDeps, planOf, refuse } from './deps.ts';

/**
 * Third INVITE stage: the concurrency limits of the caller's and the callee's subscriber and customer
 * (486 for a subscriber's own limit, 503 for its customer's), checked and counted once per call;
 * `connect` gives the room back when the call ends. Also call admission control (docs/sbc.md): a peer's call within
 * its gateway's and peering group's concurrency and call-rate limits (503 with Retry-After), a
 * customer's new calls within its call rate (403), every call within the node's own limits (503 with
 * Retry-After: calls.maxConcurrent, calls.maxPerSecond); and the call's duration cap. Later checks of the
 * same kind (fraud limits, balance) are steps of this stage.
 */
export function admit(
  deps: Pick<InviteDeps, 'cdr' | 'directory' | 'calls' | 'config' | 'log'> & Partial<Pick<InviteDeps, 'sbc'>>,
): Middleware {
  return async (req, res, next) => {
    const plan = planOf(req);
    const caller = plan.caller;
    const callee = plan.callee?.subscriber;
    // From memory (the directory follows the change feed): no database read per call.
    const callerParty = caller ? partyOf(deps.directory, caller) : null;
    const calleeParty = callee ? partyOf(deps.directory, callee) : null;
    if (caller) plan.cdr.callerCustomerId = callerParty?.customerId;
    if (calleeParty) plan.refused.calleeCustomerId = calleeParty.customerId;
    // Checked and counted in one step, so that calls racing on other workers or nodes cannot both take
    // the last room (the counts may be shared through Redis).
    const parties = [callerParty, calleeParty].flatMap((party) => (party ? [countedParty(party)] : []));
    const counted = await deps.calls.admit(plan.cdr.callId, parties);
    if (!counted.ok) {
      deps.log.info(
        { caller: callerParty?.id, callee: calleeParty?.id, status: counted.status },
        'call refused by a concurrency limit',
      );
      return refuse(deps, res, plan, counted.status, counted.reason);
    }
    const peer = plan.kind === 'inbound' ? peerOf(req) : undefined;
    const peerPolicy = peer ? deps.sbc?.policyOf(peer.gatewayId, peer.groupId) : undefined;
    // The customer whose subscriber starts the call (the callee's, for a call from a peer).
    const payer = plan.kind === 'inbound' ? calleeParty : callerParty;
    const scopes: ScopeLimit[] = [];
    // The node's own capacity first (calls.maxConcurrent, calls.maxPerSecond): 503 with Retry-After.
    const node = deps.calls.nodeScope(deps.config);
    if (node) scopes.push(node);
    if (peer && peerPolicy) scopes.push(...peerScopes(peer, peerPolicy.gateway, peerPolicy.group));
    if (payer?.customer.maxCallsPerSecond != null)
      scopes.push({
        scope: 'customer',
        id: payer.customerId,
        maxPerSecond: payer.customer.maxCallsPerSecond,
      });
    const admission = deps.calls.admitScopes(scopes);
    if (!admission.ok) {
      counted.release();
      deps.log.info(
        { status: admission.status, peer: peer?.gatewayId },
        'call refused by call admission control',
      );
      return refuse(
        deps,
        res,
        plan,
        admission.status,
        admission.reason,
        // RFC 3261 §21.5.4: a 503 of an overload that passes says when to come back.
        admission.retryAfter ? { headers: { 'Retry-After': String(admission.retryAfter) } } : undefined,
      );
    }
    // A peer's call counts for its gateway and peering group on this node while it lasts.
    const peerRelease = peer ? deps.calls.holdPeer(peer) : undefined;
    // Every call counts for the node, limit or not: a limit an operator sets while calls are up finds
    // them counted.
    const nodeRelease = deps.calls.holdNode();
    const caps = [
      durationCap(plan.kind, callerParty, calleeParty, deps.config),
      peerPolicy?.gateway.maxCallDuration,
      peerPolicy?.group.maxCallDuration,
    ].filter((d): d is number => typeof d === 'number' && d > 0);
    plan.admitted = {
      // A method, not a named arrow (docs/performance.md, "What a name made at run time costs").
      release() {
        counted.release();
        peerRelease?.();
        nodeRelease();
      },
      callerParty: callerParty ?? undefined,
      calleeParty: calleeParty ?? undefined,
      maxDurationS: caps.length > 0 ? Math.min(...caps) : undefined,
    };
    next();
  };
}

/**
 * Seconds an answered call may last (undefined: unlimited). A subscriber's call between our
 * subscribers: the shorter of its customer's cap and the platform's; to the PSTN: its customer's
 * cap, else the platform's; from a peer: the callee's customer's cap.
 */
function durationCap(
  kind: InvitePlan['kind'],
  callerParty: Party | null,
  calleeParty: Party | null,
  config: CallsConfig,
): number | undefined {
  if (kind === 'inbound') return calleeParty?.customer.maxCallDuration ?? undefined;
  if (kind === 'outbound') {
    const duration = callerParty?.customer.maxCallDuration ?? config.maxCallDuration;
    return duration && duration > 0 ? duration : undefined;
  }
  const durations = [callerParty?.customer.maxCallDuration, config.maxCallDuration].filter(
    (d): d is number => typeof d === 'number' && d > 0,
  );
  return durations.length > 0 ? Math.min(...durations) : undefined;
}

function peerOf(req: IncomingRequest): { gatewayId: string; groupId: string } | undefined {
  const peer = req.locals.source.peer;
  return peer ? { gatewayId: peer.gatewayId, groupId: peer.groupId } : undefined;
}

function peerScopes(
  peer: { gatewayId: string; groupId: string },
  gateway: PeerLimits,
  group: PeerLimits,
): ScopeLimit[] {
  return [
    {
      scope: 'gateway',
      id: peer.gatewayId,
      maxConcurrent: gateway.maxConcurrentCalls,
      maxPerSecond: gateway.maxCallsPerSecond,
    },
    {
      scope: 'group',
      id: peer.groupId,
      maxConcurrent: group.maxConcurrentCalls,
      maxPerSecond: group.maxCallsPerSecond,
    },
  ];
}
