import { passThroughHeaders, peerLegFactory } from '../../sbc/towards-peer.ts';
import { type IncomingRequest, type Middleware, parsedOf } from '../../sip/request.ts';
import { asE164, rewriteFromSubscriber, rewriteToSubscriber } from '../number-rewrite.ts';
import { type InvitePlan, type Presented, type ResolvedCallee, required } from '../plan.ts';
import { ANONYMOUS_FROM } from '../privacy.ts';
import { presentToPstn } from '../pstn.ts';
import { type InviteDeps, planOf } from './deps.ts';

type PresentDeps = Pick<InviteDeps, 'numbering'> & Partial<Pick<InviteDeps, 'sbc' | 'calls'>>;

/**
 * Fourth INVITE stage: what the callee's side is shown of the caller and of itself. Towards a
 * subscriber's devices: its `to_subscriber` rules, the anonymous From under CLIR or a peer's Privacy
 * header; towards a gateway: the caller's number after its `outbound_to_peer` rules, asserted
 * (RFC 3325) and withheld under CLIR. Every gateway leg gets the session border controller's part
 * (header rules, topology hiding, admission; docs/sbc.md), also a forward's to the PSTN.
 */
export function present(deps: PresentDeps): Middleware {
  return (req, _res, next) => {
    const plan = planOf(req);
    if (deps.sbc && deps.calls)
      plan.peerLeg = peerLegFactory(deps.sbc, deps.calls, passThroughHeaders(req.headerEntries?.() ?? []));
    if (plan.kind === 'outbound') plan.presented = toPstn(deps, plan);
    else if (plan.kind === 'inbound') {
      const group = groupLike(plan);
      plan.presented = group ? peerToHuntGroup(plan, group) : peerToSubscriber(deps, plan);
    } else if (groupLike(plan))
      plan.presented = subscriberToHuntGroup(deps, plan, req, groupLike(plan)?.aor ?? '');
    else plan.presented = subscriberToSubscriber(deps, plan, req);
    next();
  };
}

/** A hunt group or an auto-attendant: an address of a customer's that is not a subscriber. */
interface GroupLike {
  domain: string;
  aor: string;
}

/** What a call to a hunt group or an auto-attendant shows: the same for both (the caller, and the address called). */
function groupLike(plan: InvitePlan): GroupLike | undefined {
  if (plan.huntGroup) return { domain: plan.huntGroup.group.domain, aor: plan.huntGroup.aor };
  if (plan.attendant) return { domain: plan.attendant.attendant.domain, aor: plan.attendant.aor };
  return undefined;
}

function toPstn(deps: PresentDeps, plan: InvitePlan): Presented {
  const caller = required(plan.caller, 'the caller');
  const leg = presentToPstn(
    required(deps.numbering, 'numbering'),
    required(plan.pstn, 'the route'),
    undefined,
    plan.peerLeg,
  );
  plan.cdr.callerWithheld = leg.from === ANONYMOUS_FROM;
  return {
    from: leg.from,
    to: leg.to,
    callerRouted: leg.callerRouted ?? `sip:${caller.username}@${caller.domain}`,
    // Topology hiding: the SDP towards the gateway loses the caller's origin username.
    withheld: leg.hidesTopology === true,
    leg,
  };
}

/** What the callee's phones are shown of itself: its `to_subscriber` rules on the number it was reached by. */
function shownCallee(deps: PresentDeps, callee: ResolvedCallee, reachedAs: string): string {
  const shown = rewriteToSubscriber(deps.numbering, callee.subscriber.id, 'callee', reachedAs);
  return shown.matched ? `<sip:${shown.value}@${callee.subscriber.domain}>` : `<${callee.aor}>`;
}

function peerToSubscriber(deps: PresentDeps, plan: InvitePlan): Presented {
  const callee = required(plan.callee, 'the callee');
  const callerNumber = plan.callerNumber ?? '';
  const shownCaller = rewriteToSubscriber(deps.numbering, callee.subscriber.id, 'caller', callerNumber).value;
  // A caller that asked the trusted network for privacy (RFC 3323 §4.2, RFC 3325 §9.3) is withheld
  // from the callee's devices, which are not trusted (RFC 3325 §3): they get the anonymous From.
  // The CDR keeps the caller (dialled as sent, routed as it would have been shown) for the operator.
  const privacy = plan.cdr.callerWithheld === true;
  const from = privacy || !shownCaller ? ANONYMOUS_FROM : `<sip:${shownCaller}@${callee.subscriber.domain}>`;
  plan.cdr.callerWithheld = from === ANONYMOUS_FROM;
  // A peer's caller number, if it is one, is presented again when the call is forwarded to the PSTN,
  // with the privacy it asked for (From anonymous, `Privacy: id`).
  const peerCaller = asE164(callerNumber);
  return {
    from,
    to: shownCallee(deps, callee, callee.number ?? ''),
    callerRouted: shownCaller,
    withheld: privacy,
    originalCaller: peerCaller ? { number: peerCaller, clir: privacy } : undefined,
  };
}

/**
 * A peer's call to a hunt group's number (DID): the members are shown the caller's number (ours after the
 * peer's rules) in the group's domain, or the anonymous From when the caller asked for privacy.
 */
function peerToHuntGroup(plan: InvitePlan, huntGroup: GroupLike): Presented {
  const callerNumber = plan.callerNumber ?? '';
  const privacy = plan.cdr.callerWithheld === true;
  const from = privacy || !callerNumber ? ANONYMOUS_FROM : `<sip:${callerNumber}@${huntGroup.domain}>`;
  plan.cdr.callerWithheld = from === ANONYMOUS_FROM;
  const peerCaller = asE164(callerNumber);
  return {
    from,
    to: `<${huntGroup.aor}>`,
    callerRouted: callerNumber,
    withheld: privacy,
    originalCaller: peerCaller ? { number: peerCaller, clir: privacy } : undefined,
  };
}

function displayPart(display: string | undefined): string {
  return display ? `"${display.replace(/["\\]/g, '')}" ` : '';
}

function subscriberToSubscriber(deps: PresentDeps, plan: InvitePlan, req: IncomingRequest): Presented {
  const callee = required(plan.callee, 'the callee');
  return {
    ...callerTowards(deps, plan, req, callee.subscriber.id),
    to: shownCallee(deps, callee, callee.number ?? callee.subscriber.username),
  };
}

/** A hunt group's members are shown the caller as a direct call would show it, and the group as callee. */
function subscriberToHuntGroup(
  deps: PresentDeps,
  plan: InvitePlan,
  req: IncomingRequest,
  groupAor: string,
): Presented {
  return { ...callerTowards(deps, plan, req, undefined), to: `<${groupAor}>` };
}

/** The calling subscriber as the callee (its `to_subscriber` rules, when a subscriber) is shown it. */
function callerTowards(
  deps: PresentDeps,
  plan: InvitePlan,
  req: IncomingRequest,
  calleeId: string | undefined,
): Omit<Presented, 'to'> {
  const caller = required(plan.caller, 'the caller');
  // The caller's own `from_subscriber` caller rules run on its primary number, as on its calls to the
  // PSTN; when one matches, its output is the caller instead of the username (docs/numbering.md). Not
  // under CLIR: the callee's devices are then shown neither number nor username.
  const presentation = deps.numbering?.presentSubscriber(caller.id);
  const clir = presentation?.clir ?? false;
  const callerNumber =
    presentation?.number && !clir
      ? rewriteFromSubscriber(deps.numbering, caller.id, 'caller', presentation.number)
      : undefined;
  const callerShownAs = callerNumber?.matched ? callerNumber.value : caller.username;
  // The caller's number (after its own rules) as a forward to the PSTN presents it.
  const originalNumber = presentation?.number
    ? asE164(callerNumber?.matched ? callerNumber.value : presentation.number)
    : null;
  const shownCaller = calleeId
    ? rewriteToSubscriber(deps.numbering, calleeId, 'caller', callerShownAs)
    : { value: callerShownAs, matched: false };
  const shownCallerUri = `sip:${shownCaller.matched ? shownCaller.value : callerShownAs}@${caller.domain}`;
  // Under CLIR the callee's devices get the anonymous From (RFC 3323 §4.1.1.3), without the display
  // name the caller's phone sent; nothing else of the A leg reaches them (a B2BUA builds the B leg
  // afresh, with no P-Asserted-Identity: devices are not trusted, RFC 3325 §3). The CDR keeps the
  // caller (`caller_subscriber_id`, `caller_dialled`, `caller_routed`) for the operator.
  const from = clir ? ANONYMOUS_FROM : `${displayPart(parsedOf(req).from.displayName)}<${shownCallerUri}>`;
  return {
    from,
    callerRouted: shownCallerUri,
    withheld: clir,
    originalCaller: originalNumber ? { number: originalNumber, clir } : undefined,
  };
}
