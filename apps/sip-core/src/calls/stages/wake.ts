import { parseNameAddr } from '@switchboard/sip';
import type { Middleware } from '../../sip/request.ts';
import { deviceTargets } from '../devices.ts';
import type { Presented } from '../plan.ts';
import { required } from '../plan.ts';
import { type InviteDeps, planOf } from './deps.ts';

/**
 * Fifth INVITE stage (RFC 8599 §7): the callee's push bindings without a live flow are not rung
 * but woken. Each becomes a fork that pushes the app (caller as `present` chose to show it), holds
 * the call until the app registers with the same pn-* values, on this node or another, and then
 * rings the fresh contact; no REGISTER within `calls.pushWaitTimeout` fails that fork like a device
 * that did not answer. The subscriber's other devices ring meanwhile. Subscribers a forward reaches
 * are woken the same way (`plan.devices`).
 */
export function wake(deps: Pick<InviteDeps, 'push' | 'config'>): Middleware {
  return (req, _res, next) => {
    const plan = planOf(req);
    const callee = plan.callee;
    const waker = deps.push;
    if ((!callee && !plan.huntGroup && !plan.attendant) || !waker) return next();
    const presented = required(plan.presented, 'the presentation');
    const callWake = {
      waker,
      call: { callId: plan.cdr.callId, ...shownCaller(presented), withheld: presented.withheld },
      timeoutMs: () => deps.config.pushWaitTimeout * 1000,
    };
    plan.devices = (bindings, srtp) => deviceTargets(bindings, callWake, srtp);
    if (callee) callee.targets = plan.devices(callee.bindings, callee.subscriber.srtp);
    next();
  };
}

/** The caller's name and number as the callee's devices are shown them (the B leg's From). */
function shownCaller(presented: Presented): { callerName?: string; callerNumber?: string } {
  try {
    const from = parseNameAddr(presented.from, 'From');
    const user = from.uri.kind === 'sip' ? from.uri.userText : undefined;
    return {
      ...(from.displayName ? { callerName: from.displayName } : {}),
      ...(user ? { callerNumber: user } : {}),
    };
  } catch {
    return {};
  }
}
