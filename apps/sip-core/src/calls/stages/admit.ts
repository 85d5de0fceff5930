import type { Middleware } from '../../sip/request.ts';
import type { CallsConfig } from '../calls-config.ts';
import { countedParty, type Party, partyOf } from '../party.ts';
import type { InvitePlan } from '../plan.ts';
import { type InviteDeps, planOf, refuse } from './deps.ts';

/**
 * Third INVITE stage: the concurrency limits of the caller's and the callee's subscriber and customer
 * (486 for a subscriber's own limit, 503 for its customer's), checked and counted once per call; `connect`
 * gives the room back when the call ends. Also the call's duration cap. Later checks of the same kind
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
    // Checked and counted in one step, so that calls racing on other workers or nodes cannot both take
    // the last room (the counts may be shared through Redis).
    const parties = [callerParty, calleeParty].flatMap((party) => (party ? [countedParty(party)] : []));
    const admission = await deps.calls.admit(plan.cdr.callId, parties);
    if (!admission.ok) {
      deps.log.info(
        { caller: callerParty?.id, callee: calleeParty?.id, status: admission.status },
        'call refused by a concurrency limit',
      );
      return refuse(deps, res, plan, admission.status, admission.reason);
    }
    plan.admitted = {
      release: admission.release,
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
