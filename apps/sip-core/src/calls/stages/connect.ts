import type { CachedSubscriber } from '../../directory/directory.ts';
import type { IncomingRequest, Middleware } from '../../sip/request.ts';
import { Call } from '../call.ts';
import type { CallPlan } from '../call-types.ts';
import { deviceTargets } from '../devices.ts';
import { ForwardingRoute } from '../forwarding.ts';
import type { CachedHuntGroup } from '../hunt-groups.ts';
import { aorOf, HuntRoute } from '../hunt-route.ts';
import { paidForwardLeg } from '../paid-forward.ts';
import { countedParty, partyOf } from '../party.ts';
import { type InvitePlan, required } from '../plan.ts';
import { callDeps, type InviteDeps, planOf } from './deps.ts';
import { voicemailDeposit } from './voicemail-stage.ts';

/**
 * Last INVITE stage: the call as a B2BUA (`Call`) with media through the relay, counted for its
 * parties' limits until it ends. A subscriber's call runs through its call forwards (forwarding.ts),
 * a hunt group's through its members and then its no-answer destination (hunt-route.ts).
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
      const presented = required(plan.presented, 'the presentation');
      const common = {
        callerProfile: plan.callerProfile,
        callerDialog: plan.callerDialog,
        callerFromPeer: plan.callerFromPeer,
        callerDtmfInfo: plan.callerDtmfInfo,
        cdr: plan.cdr,
        callerRouted: presented.callerRouted,
        ringTimeoutS: deps.config.ringTimeout,
        maxDurationS: admitted.maxDurationS,
        credit: admitted.credit,
      };
      let callPlan: CallPlan;
      if (presented.leg) {
        // To the phone network: gateways in LCR order, failing over on 5xx/408 (see Call).
        callPlan = { ...presented.leg, ...common, withheld: presented.withheld };
      } else if (plan.huntGroup) {
        const { group, aor } = plan.huntGroup;
        const route = huntRouteOf(deps, forwardingRoute, req, plan, group, presented.to);
        callPlan = {
          ...common,
          targets: [],
          route: (call) => route.run(call),
          from: presented.from,
          to: presented.to,
          calleeCustomerId: group.customerId,
          withheld: presented.withheld,
          calleeRouted: aor,
        };
      } else {
        const callee = required(plan.callee, 'the callee');
        const route = forwardingRoute(req, plan, callee.subscriber, true);
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
      call = new Call(srfReq, srfRes, callPlan, callDeps(deps));
    } catch (error) {
      // No call to end it: the room the call holds in its limits is given back here.
      admitted.release();
      throw error;
    }
    await call.run(deps.calls.add(call, admitted.release));
  };
}

/**
 * The call to a hunt group (hunt-route.ts): its members shown `to`, then its no-answer destination.
 * Also what an auto-attendant's choice of a group rings (attendant-stage.ts).
 */
export function huntRouteOf(
  deps: InviteDeps,
  forwardingRoute: ReturnType<typeof forwardingRouteFactory>,
  req: IncomingRequest,
  plan: InvitePlan,
  group: CachedHuntGroup,
  to: string,
): HuntRoute {
  const presented = required(plan.presented, 'the presentation');
  const aor = aorOf(group);
  return new HuntRoute(
    {
      groups: required(deps.huntGroups, 'the hunt groups'),
      directory: deps.directory,
      numbering: deps.numbering,
      busy: (member) => deps.calls.inCall(member.id),
      hold: async (member) => {
        const admission = await deps.calls.admit(plan.cdr.callId, [
          countedParty(partyOf(deps.directory, member)),
        ]);
        return admission.ok ? admission.release : () => {};
      },
      devices: (member) => {
        const bindings = deps.location.lookup(`sip:${member.username}@${member.domain}`);
        return plan.devices
          ? plan.devices(bindings, member.srtp)
          : deviceTargets(bindings, undefined, member.srtp);
      },
      from: presented.from,
      to,
      destinationRoute: (subscriber) => {
        const forwarding = forwardingRoute(req, plan, subscriber, false);
        return (call) => forwarding.run(call);
      },
      voicemailRoute: (subscriber, allBusy) => (call) =>
        voicemailDeposit(deps, plan, call, subscriber, {
          forwardedFrom: aor,
          forwardType: undefined,
          greeting: allBusy ? 'busy' : 'unavailable',
        }),
      log: deps.log,
    },
    group,
  );
}

/**
 * The call to a subscriber with its call forwards (forwarding.ts). The original callee is already
 * counted for the limits; a subscriber a forward reaches is admitted there, like a direct call. Its
 * devices are shown what `present` chose; a forwarded-to subscriber's devices its address. `direct`
 * false: the callee is a hunt group's no-answer destination (shown its own address, not counted).
 */
export function forwardingRouteFactory(
  deps: InviteDeps,
): (req: IncomingRequest, plan: InvitePlan, callee: CachedSubscriber, direct: boolean) => ForwardingRoute {
  return (req, plan, callee, direct) => {
    const presented = required(plan.presented, 'the presentation');
    const callId = plan.cdr.callId;
    return new ForwardingRoute(
      {
        forwards: deps.forwards,
        directory: deps.directory,
        numbering: deps.numbering,
        ringTimeoutS: deps.config.ringTimeout,
        log: deps.log,
        voicemail: (call, owner, via) => voicemailDeposit(deps, plan, call, owner, via),
        pstnStage: (subscriber, e164) =>
          paidForwardLeg(
            { ...deps, creditLimit: deps.wholesale },
            callId,
            subscriber,
            e164,
            deps.config.forwardedCallerId === 'original' ? presented.originalCaller : undefined,
            plan.peerLeg,
          ),
        subscriberStage: async (target, admit) => {
          const original = direct && target.id === callee.id;
          let customerId = original
            ? plan.admitted?.calleeParty?.customerId
            : target.id === callee.id
              ? target.customerId
              : undefined;
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
          const bindings = deps.location.lookup(aor);
          return {
            stage: {
              targets: plan.devices
                ? plan.devices(bindings, target.srtp)
                : deviceTargets(bindings, undefined, target.srtp),
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
      callee,
      {
        // Read through the chain's view: a peer's inbound header rules (docs/sbc.md) apply here too.
        requestUri: req.uri,
        diversion: req.get('Diversion') || undefined,
        historyInfo: req.get('History-Info') || undefined,
      },
    );
  };
}
