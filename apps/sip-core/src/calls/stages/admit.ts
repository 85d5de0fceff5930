import type { Middleware } from '../../sip/request.ts';
import type { CallsConfig } from '../calls-config.ts';
import { admitParty, type Party, partyOf } from '../party.ts';
import type { InvitePlan } from '../plan.ts';
import { type InviteDeps, planOf, refuse } from './deps.ts';

/**
 * Third INVITE stage: the concurrency limits of the caller's and the callee's subscriber and customer
 * (486 for a subscriber's own limit, 503 for its customer's), checked once per call; `connect` counts
 * the call for them until it ends. Also the call's duration cap. Later checks of the same kind
 * (fraud limits, balance) are steps of this stage.
 */
export function admit(deps: Pick<InviteDeps, 'cdr' | 'directory' | 'calls' | 'config' | 'log'>): Middleware {
  return async (req, res, next) => {
    const plan = planOf(req);
    const caller = plan.caller;
    const callee = plan.callee?.subscriber;
    // From memory (the directory follows the change feed): no database read per call.
    const callerParty = caller ? partyOf(deps.directory, caller) : null;
    const calleeParty = callee ? partyOf(deps.directory, callee) : null;
    if (caller) plan.cdr.callerCustomerId = callerParty?.customerId;
    if (calleeParty) plan.refused.calleeCustomerId = calleeParty.customerId;
    for (const party of [callerParty, calleeParty]) {
      if (!party) continue;
      const admission = admitParty(deps.calls, party);
      if (!admission.ok) {
        deps.log.info(
          { subscriber: party.id, status: admission.status },
          'call refused by a concurrency limit',
        );
        return refuse(deps, res, plan, admission.status, admission.reason);
      }
    }
    const parties = [];
    if (caller) parties.push({ subscriberId: caller.id, customerId: callerParty?.customerId });
    if (callee) parties.push({ subscriberId: callee.id, customerId: calleeParty?.customerId });
    plan.admitted = {
      parties,
      callerParty: callerParty ?? undefined,
      calleeParty: calleeParty ?? undefined,
      maxDurationS: durationCap(plan.kind, callerParty, calleeParty, deps.config),
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
