import { routeToPbx } from '../../pbx/to-pbx.ts';
import type { Middleware } from '../../sip/request.ts';
import { deviceTargets } from '../devices.ts';
import { aorOf } from '../hunt-route.ts';
import { required } from '../plan.ts';
import { routeToPstn } from '../pstn.ts';
import { type InviteDeps, planOf, refuse } from './deps.ts';

/**
 * Second INVITE stage: where the call goes. A subscriber (enabled, else 404) rings its registered
 * devices, its call forwards taking over when they fail (forwarding.ts, run by `Call`); a PSTN number
 * goes to the gateways LCR picks for the caller, in order (403 blocked, 404 no route, 484 incomplete);
 * a user of a fronted domain to that domain's PBX (pbx/to-pbx.ts);
 * a hunt group rings its members (hunt-route.ts, run by `Call`); an auto-attendant plays its menu
 * (attendant-stage.ts).
 */
export function resolve(
  deps: Pick<InviteDeps, 'cdr' | 'location' | 'gateways' | 'numbering' | 'wholesale' | 'health'>,
): Middleware {
  return async (req, res, next) => {
    const plan = planOf(req);
    const destination = plan.destination;
    if (destination.kind === 'pstn') {
      const route = await routeToPstn(deps, required(plan.caller, 'the caller'), destination.e164);
      if ('status' in route) return refuse(deps, res, plan, route.status, route.reason);
      plan.pstn = route;
      return next();
    }
    if (destination.kind === 'pbx') {
      const route = await routeToPbx(deps, required(plan.caller, 'the caller'), destination);
      if ('status' in route) return refuse(deps, res, plan, route.status, route.reason);
      plan.pstn = route;
      return next();
    }
    if (destination.kind === 'huntGroup') {
      // Which members ring is decided when the call rings (busy and registered then; hunt-route.ts).
      const aor = aorOf(destination.group);
      plan.huntGroup = { group: destination.group, aor };
      plan.refused.calleeRouted = aor;
      plan.refused.calleeCustomerId = destination.group.customerId;
      if (plan.caller) plan.refused.callerRouted = `sip:${plan.caller.username}@${plan.caller.domain}`;
      return next();
    }
    if (destination.kind === 'attendant') {
      // Where it rings is chosen by the caller's digit (attendant-stage.ts).
      const attendant = destination.attendant;
      const aor = `sip:${attendant.username}@${attendant.domain}`;
      plan.attendant = { attendant, aor };
      plan.refused.calleeRouted = aor;
      plan.refused.calleeCustomerId = attendant.customerId;
      if (plan.caller) plan.refused.callerRouted = `sip:${plan.caller.username}@${plan.caller.domain}`;
      return next();
    }
    const subscriber = destination.subscriber;
    if (!subscriber?.enabled) return refuse(deps, res, plan, 404, 'Not Found');
    const aor = `sip:${subscriber.username}@${subscriber.domain}`;
    const bindings = deps.location.lookup(aor);
    plan.callee = {
      subscriber,
      aor,
      number: destination.number,
      bindings,
      targets: deviceTargets(bindings, undefined, subscriber.srtp),
    };
    plan.refused.calleeSubscriberId = subscriber.id;
    plan.refused.calleeRouted = aor;
    if (plan.caller) plan.refused.callerRouted = `sip:${plan.caller.username}@${plan.caller.domain}`;
    next();
  };
}
