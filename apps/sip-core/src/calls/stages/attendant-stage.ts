import type { AttendantMedia } from '../../attendant/attendant-media.ts';
import type { CachedSubscriber } from '../../directory/directory.ts';
import type { IncomingRequest, Middleware } from '../../sip/request.ts';
import { ENDPOINT_PROFILE } from '../../voicemail/voicemail.ts';
import type { AttendantDestination, CachedAttendant } from '../attendants.ts';
import { Call } from '../call.ts';
import type { RingOutcome, StageFailure } from '../call-types.ts';
import type { CachedHuntGroup } from '../hunt-groups.ts';
import { aorOf } from '../hunt-route.ts';
import { type InvitePlan, required } from '../plan.ts';
import { forwardingRouteFactory, huntRouteOf } from './connect.ts';
import { callDeps, type InviteDeps, planOf } from './deps.ts';
import { voicemailDeposit } from './voicemail-stage.ts';

const unavailable: StageFailure = {
  kind: 'failed',
  status: 480,
  reason: 'Temporarily Unavailable',
  timedOut: false,
  statuses: [],
};

/**
 * A call to an auto-attendant (docs/pbx.md#auto-attendant), after `present` and `wake`: the greeting
 * plays as early media (a 183 with the media endpoint's answer through the relay; RFC 3960 §3.1) and
 * one RFC 4733 digit (RFC 4733 §3.2) chooses the destination; no digit in time sends the call to the
 * timeout destination. The destination (a subscriber with its forwards, a hunt group, a voicemail box,
 * one of our numbers) is then rung on the same caller leg, still unanswered, so the caller's phone
 * needs no transfer (REFER). Every other call goes on to `connect`.
 */
export function attendantStage(deps: InviteDeps): Middleware {
  const forwardingRoute = forwardingRouteFactory(deps);
  return async (req, _res, next) => {
    const plan = planOf(req);
    const media = deps.attendants;
    if (!plan.attendant || !media) return next();
    if (!req.srf) return next(new Error('INVITE without its drachtio-srf request and response'));
    const admitted = required(plan.admitted, 'admission');
    const presented = required(plan.presented, 'the presentation');
    const { attendant, aor } = plan.attendant;
    const routes = destinationRoutes(deps, forwardingRoute, req, plan, attendant);
    let call: Call;
    try {
      call = new Call(
        req.srf.req,
        req.srf.res,
        {
          callerProfile: plan.callerProfile,
          cdr: plan.cdr,
          callerRouted: presented.callerRouted,
          ringTimeoutS: deps.config.ringTimeout,
          maxDurationS: admitted.maxDurationS,
          credit: admitted.credit,
          targets: [],
          from: presented.from,
          to: presented.to,
          calleeCustomerId: attendant.customerId,
          withheld: presented.withheld,
          calleeRouted: aor,
          route: (c) => menuThenRoute(c, media, attendant, aor, presented.from, routes, deps),
        },
        callDeps(deps),
      );
    } catch (error) {
      admitted.release();
      throw error;
    }
    await call.run(deps.calls.add(call, admitted.release));
  };
}

/** The greeting and the digit as early media, then the chosen destination (or the timeout one). */
async function menuThenRoute(
  call: Call,
  media: AttendantMedia,
  attendant: CachedAttendant,
  aor: string,
  from: string,
  routes: (destination: AttendantDestination) => ((call: Call) => Promise<RingOutcome>) | undefined,
  deps: Pick<InviteDeps, 'log'>,
): Promise<RingOutcome> {
  const played = await call.earlyMedia(
    { from, to: `<${aor}>`, calleeCustomerId: attendant.customerId, calleeRouted: aor },
    media.menuApp(attendant),
    ENDPOINT_PROFILE,
  );
  if (played.kind !== 'played') return played;
  const choice = played.result;
  if (choice.kind === 'closed') return { kind: 'ended' };
  const destination = choice.kind === 'digit' ? choice.destination : attendant.timeout;
  deps.log.info(
    {
      attendant: attendant.id,
      ...(choice.kind === 'digit'
        ? { digit: choice.digit }
        : { timeout: true, invalidDigits: choice.invalidDigits }),
      destination,
    },
    'auto-attendant choice',
  );
  if (!destination) return unavailable;
  const route = routes(destination);
  if (!route) {
    deps.log.warn({ attendant: attendant.id, destination }, 'auto-attendant destination is not reachable');
    return unavailable;
  }
  return route(call);
}

/**
 * How each kind of destination is rung. Only the attendant's own customer's subscribers and groups
 * are reached (the API checks it when the menu is saved; a subscriber moved since is not rung).
 */
function destinationRoutes(
  deps: InviteDeps,
  forwardingRoute: ReturnType<typeof forwardingRouteFactory>,
  req: IncomingRequest,
  plan: InvitePlan,
  attendant: CachedAttendant,
): (destination: AttendantDestination) => ((call: Call) => Promise<RingOutcome>) | undefined {
  const ownSubscriber = (id: string): CachedSubscriber | undefined => {
    const subscriber = deps.directory.subscriberById(id);
    return subscriber?.enabled && subscriber.customerId === attendant.customerId ? subscriber : undefined;
  };
  const ownGroup = (id: string): CachedHuntGroup | undefined => {
    const group = deps.huntGroups?.findById(id);
    return group?.customerId === attendant.customerId ? group : undefined;
  };
  const toSubscriber = (subscriber: CachedSubscriber) => (call: Call) => {
    call.retarget({ calleeRouted: `sip:${subscriber.username}@${subscriber.domain}` });
    return forwardingRoute(req, plan, subscriber, false).run(call);
  };
  const toGroup = (group: CachedHuntGroup) => (call: Call) =>
    huntRouteOf(deps, forwardingRoute, req, plan, group, `<${aorOf(group)}>`).run(call);
  return (destination) => {
    switch (destination.kind) {
      case 'subscriber': {
        const subscriber = ownSubscriber(destination.target);
        return subscriber ? toSubscriber(subscriber) : undefined;
      }
      case 'hunt_group': {
        const group = ownGroup(destination.target);
        return group ? toGroup(group) : undefined;
      }
      case 'voicemail': {
        const owner = ownSubscriber(destination.target);
        const aor = `sip:${attendant.username}@${attendant.domain}`;
        return owner
          ? (call) =>
              voicemailDeposit(deps, plan, call, owner, { forwardedFrom: aor, forwardType: undefined })
          : undefined;
      }
      case 'number':
        return numberRoute(deps, attendant, destination.target, toSubscriber, toGroup);
    }
  };
}

/** One of our numbers, dialled as a user of the attendant's domain dials: its subscriber or group. */
function numberRoute(
  deps: Pick<InviteDeps, 'numbering' | 'directory' | 'huntGroups'>,
  attendant: CachedAttendant,
  value: string,
  toSubscriber: (subscriber: CachedSubscriber) => (call: Call) => Promise<RingOutcome>,
  toGroup: (group: CachedHuntGroup) => (call: Call) => Promise<RingOutcome>,
): ((call: Call) => Promise<RingOutcome>) | undefined {
  const numbering = deps.numbering;
  if (!numbering) return undefined;
  let e164: string | undefined;
  try {
    const normalised = numbering.normalise(attendant.domain, value);
    e164 = normalised.kind === 'e164' ? normalised.e164 : undefined;
  } catch {
    return undefined;
  }
  if (!e164) return undefined;
  const mapping = numbering.lookupNumber(e164);
  const subscriber = mapping ? deps.directory.findSubscriber(mapping.username, mapping.domain) : undefined;
  if (subscriber?.enabled) return toSubscriber(subscriber);
  const groupNumber = numbering.lookupHuntGroupNumber(e164);
  const group = groupNumber ? deps.huntGroups?.findById(groupNumber.huntGroupId) : undefined;
  return group ? toGroup(group) : undefined;
}
