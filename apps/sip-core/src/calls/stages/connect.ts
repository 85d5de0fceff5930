import type Srf from 'drachtio-srf';
import type { Middleware } from '../../sip/request.ts';
import { Call } from '../call.ts';
import type { CallPlan } from '../call-types.ts';
import { deviceTargets } from '../devices.ts';
import { ForwardingRoute } from '../forwarding.ts';
import { countedParty, partyOf } from '../party.ts';
import { type Admitted, type InvitePlan, required } from '../plan.ts';
import { pstnLeg } from '../pstn.ts';
import { type InviteDeps, planOf } from './deps.ts';

/**
 * Last INVITE stage: the call as a B2BUA (`Call`) with media through the relay, counted for its
 * parties' limits until it ends. A subscriber's call runs through its call forwards (forwarding.ts).
 */
export function connect(deps: InviteDeps): Middleware {
  const forwardingRoute = forwardingRouteFactory(deps);
  return async (req, _res, next) => {
    if (!req.srf) return next(new Error('INVITE without its drachtio-srf request and response'));
    const { req: srfReq, res: srfRes } = req.srf;
    const plan = planOf(req);
    const admitted = required(plan.admitted, 'admission');
    let call: Call;
    try {
      call = newCall(deps, srfReq, srfRes, plan, admitted, forwardingRoute);
    } catch (error) {
      // No call to end it: the room the call holds in its limits is given back here.
      admitted.release();
      throw error;
    }
    await call.run(deps.calls.add(call, admitted.release));
  };
}

/** The B2BUA for the plan: to the phone network (gateways in LCR order) or to a subscriber's devices. */
function newCall(
  deps: InviteDeps,
  srfReq: Srf.SrfRequest,
  srfRes: Srf.SrfResponse,
  plan: InvitePlan,
  admitted: Admitted,
  forwardingRoute: (srfReq: Srf.SrfRequest, plan: InvitePlan) => ForwardingRoute,
): Call {
  const presented = required(plan.presented, 'the presentation');
  const common = {
    callerProfile: plan.callerProfile,
    cdr: plan.cdr,
    callerRouted: presented.callerRouted,
    ringTimeoutS: deps.config.ringTimeout,
    maxDurationS: admitted.maxDurationS,
  };
  let callPlan: CallPlan;
  if (presented.leg) {
    // To the phone network: gateways in LCR order, failing over on 5xx/408 (see Call).
    callPlan = { ...presented.leg, ...common };
  } else {
    const callee = required(plan.callee, 'the callee');
    const route = forwardingRoute(srfReq, plan);
    callPlan = {
      ...common,
      targets: callee.targets,
      route: (call) => route.run(call),
      from: presented.from,
      to: presented.to,
      calleeSubscriberId: callee.subscriber.id,
      calleeCustomerId: admitted.calleeParty?.customerId,
      withheld: presented.withheld,
      calleeRouted: callee.aor,
    };
  }
  return new Call(srfReq, srfRes, callPlan, {
    srf: deps.srf,
    media: deps.media,
    cdr: deps.cdr,
    log: deps.log,
    ...(deps.engine ? { engine: deps.engine } : {}),
    onState: (c) => deps.calls.changed(c),
  });
}

/**
 * The call to a subscriber with its call forwards (forwarding.ts). The original callee is already
 * counted for the limits; a subscriber a forward reaches is admitted there, like a direct call. Its
 * devices are shown what `present` chose; a forwarded-to subscriber's devices its address.
 */
function forwardingRouteFactory(
  deps: InviteDeps,
): (srfReq: Srf.SrfRequest, plan: InvitePlan) => ForwardingRoute {
  return (srfReq, plan) => {
    const callee = required(plan.callee, 'the callee');
    const presented = required(plan.presented, 'the presentation');
    const callId = plan.cdr.callId;
    return new ForwardingRoute(
      {
        forwards: deps.forwards,
        directory: deps.directory,
        numbering: deps.numbering,
        ringTimeoutS: deps.config.ringTimeout,
        log: deps.log,
        pstnStage: (subscriber, e164) =>
          pstnLeg(
            deps,
            subscriber,
            e164,
            deps.config.forwardedCallerId === 'original' ? presented.originalCaller : undefined,
          ),
        subscriberStage: async (target, admit) => {
          const original = target.id === callee.subscriber.id;
          let customerId = original ? plan.admitted?.calleeParty?.customerId : undefined;
          let release = (): void => {};
          if (admit) {
            // A forwarded call counts for the subscriber it reaches, like a direct call.
            const party = partyOf(deps.directory, target);
            const admission = await deps.calls.admit(callId, [countedParty(party)]);
            if (!admission.ok) return { status: admission.status, reason: admission.reason };
            customerId = party.customerId;
            release = admission.release;
          }
          const aor = `sip:${target.username}@${target.domain}`;
          return {
            stage: {
              targets: (plan.devices ?? deviceTargets)(deps.location.lookup(aor)),
              from: presented.from,
              to: original ? presented.to : `<${aor}>`,
              calleeSubscriberId: target.id,
              calleeCustomerId: customerId,
              calleeRouted: aor,
            },
            release,
          };
        },
      },
      callee.subscriber,
      {
        requestUri: srfReq.uri,
        diversion: srfReq.get('Diversion') || undefined,
        historyInfo: srfReq.get('History-Info') || undefined,
      },
    );
  };
}
