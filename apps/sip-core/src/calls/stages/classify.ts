import { profiles } from '@switchboard/media';
import type { SipUri } from '@switchboard/sip';
import type { CachedSubscriber, Directory } from '../../directory/directory.ts';
import { type IncomingRequest, type Middleware, parsedOf } from '../../sip/request.ts';
import type { Attendants, CachedAttendant } from '../attendants.ts';
import type { CachedHuntGroup, HuntGroups } from '../hunt-groups.ts';
import { callerLegProfile } from '../leg-profile.ts';
import { asE164, domainVariables, rewriteFromPeer, rewriteFromSubscriber } from '../number-rewrite.ts';
import type { Destination, InvitePlan } from '../plan.ts';
import { withholdsIdentity } from '../privacy.ts';
import type { InviteDeps } from './deps.ts';

/** The subscriber and domain lookups classify needs (the in-memory directory). */
export type ClassifyDeps = Pick<InviteDeps, 'numbering'> & {
  directory: Pick<Directory, 'servesDomain' | 'findSubscriber'> &
    // The caller's domain transcoding setting; message routing resolves callees only and leaves it out.
    // Fronted domains (their users are a PBX's); unset: none.
    Partial<Pick<Directory, 'transcodeCodecs' | 'upstreamPbx'>>;
  /** Hunt groups by user part or by a number pointing at them; unset: none are callable. */
  huntGroups?: Pick<HuntGroups, 'find' | 'findById'> | undefined;
  /** Auto-attendants by user part or by a number pointing at them; unset: none are callable. */
  attendants?: { attendants: Pick<Attendants, 'find' | 'findById'> } | undefined;
};

/**
 * First INVITE stage: which kind of call this is and whom it addresses. A call from a trusted peer
 * (no subscriber) is `inbound`; a subscriber's call is `internal` when the Request-URI, after the
 * caller's dialling rules, is one of our subscribers (username or DID), `outbound` when it is a
 * number that is not ours. Starts the call plan and its CDR.
 */
export function classify(deps: ClassifyDeps): Middleware {
  return (req, res, next) => {
    const parsed = parsedOf(req);
    // A request with a To tag belongs to a dialog (RFC 3261 §12.2); a new call has none, and every
    // dialog we know is handled by drachtio-srf before this chain.
    if (parsed.to.tag !== undefined) return res.send(481, 'Call/Transaction Does Not Exist');
    const caller = req.locals.subscriber;
    if (caller) req.locals.invite = fromSubscriber(deps, req, caller);
    else if (req.locals.source.trusted) req.locals.invite = fromPeer(deps, req);
    else return res.send(403, 'Forbidden');
    next();
  };
}

function sourceOf(req: IncomingRequest): string {
  const { source } = req.locals;
  return `${source.transport}:${source.address}:${source.port}`;
}

/**
 * From a trusted peer (a gateway, no digest): the Request-URI's number (To's, for a call to a trunk's
 * registered contact), in the peer's format made ours by its peering group's `inbound_from_peer`
 * rules, is a DID of one of our subscribers, hunt groups or auto-attendants.
 */
function fromPeer(deps: ClassifyDeps, req: IncomingRequest): InvitePlan {
  const parsed = parsedOf(req);
  const peer = req.locals.source.peer;
  const callerDialled = parsed.from.uri.kind === 'sip' ? (parsed.from.uri.userText ?? '') : '';
  const requestUri = parsed.requestUri;
  const calledDomain =
    requestUri.hostType === 'domain' && deps.directory.servesDomain(requestUri.host)
      ? requestUri.host.toLowerCase()
      : undefined;
  const variables = deps.numbering ? domainVariables(deps.numbering, calledDomain) : {};
  const groupId = peer?.groupId;
  // A call to a registered trunk's contact names the callee in To (the Request-URI is our contact).
  const toRegistration = peer?.matched.startsWith('contact:') === true;
  const dialled = toRegistration
    ? parsed.to.uri.kind === 'sip'
      ? (parsed.to.uri.userText ?? '')
      : ''
    : (requestUri.userText ?? '');
  const calleeNumber = rewriteFromPeer(deps.numbering, groupId, 'callee', dialled, variables);
  const callerNumber = rewriteFromPeer(deps.numbering, groupId, 'caller', callerDialled, variables).value;
  const e164 = asE164(calleeNumber.value);
  const mapping = e164 ? deps.numbering?.lookupNumber(e164) : null;
  const group = e164 && !mapping ? groupOfNumber(deps, e164) : undefined;
  const attendant = e164 && !mapping && !group ? attendantOfNumber(deps, e164) : undefined;
  return {
    kind: 'inbound',
    cdr: {
      callId: parsed.callId,
      aLegId: parsed.callId,
      direction: 'inbound',
      callerDialled,
      calleeDialled: req.uri,
      startedAt: new Date(),
      sourceAddress: sourceOf(req),
      peerGatewayId: peer?.gatewayId,
      // Known from the first request on, so that even a refused attempt keeps the caller withheld.
      callerWithheld: withholdsIdentity(req.get('Privacy')),
    },
    callerProfile: callerLegProfile(req.srf?.req.body, profiles.publicPeer),
    callerNumber,
    destination: group
      ? { kind: 'huntGroup', group }
      : attendant
        ? { kind: 'attendant', attendant }
        : {
            kind: 'subscriber',
            subscriber: mapping ? deps.directory.findSubscriber(mapping.username, mapping.domain) : undefined,
            number: mapping?.e164,
          },
    refused: { callerRouted: callerNumber, calleeRouted: calleeNumber.value },
  };
}

function fromSubscriber(deps: ClassifyDeps, req: IncomingRequest, caller: CachedSubscriber): InvitePlan {
  const parsed = parsedOf(req);
  const callerUri = `sip:${caller.username}@${caller.domain}`;
  const destination = dialled(deps, caller, parsed.requestUri);
  // A fronted domain's user is reached through its PBX, a peer: an outbound call like one to the PSTN.
  const kind = destination.kind === 'pstn' || destination.kind === 'pbx' ? 'outbound' : 'internal';
  return {
    kind,
    cdr: {
      callId: parsed.callId,
      aLegId: parsed.callId,
      direction: kind,
      callerDialled:
        parsed.from.uri.kind === 'sip'
          ? `sip:${parsed.from.uri.userText}@${parsed.from.uri.host}`
          : callerUri,
      calleeDialled: req.uri,
      startedAt: new Date(),
      sourceAddress: sourceOf(req),
      callerSubscriberId: caller.id,
      // Under CLIR the CDR marks the caller withheld from the start, also when a limit refuses the
      // call before the callee's phones ring.
      callerWithheld: deps.numbering?.presentSubscriber(caller.id)?.clir ?? false,
    },
    callerProfile: callerLegProfile(
      req.srf?.req.body,
      profiles.natSubscriber,
      caller.srtp,
      deps.directory.transcodeCodecs?.(caller.domainId),
    ),
    caller,
    destination,
    refused: {},
  };
}

/**
 * The Request-URI user as a username of the addressed domain (ours, else the caller's); otherwise a
 * dialled number. The caller's `from_subscriber` callee rules run first: a rule that matched wrote the
 * number in E.164 (with or without `+`, as sip:provider's rules do) or a user name; otherwise the
 * caller's dial plan normalises it. A number of ours (a DID) reaches its subscriber, any other the PSTN.
 * Instant messages (handlers/message.ts) address their recipient the same way.
 */
export function dialled(deps: ClassifyDeps, caller: CachedSubscriber, requestUri: SipUri): Destination {
  const { directory, numbering } = deps;
  // A user of a domain an upstream PBX serves is the PBX's (no subscriber of ours there).
  const pbx = requestUri.hostType === 'domain' ? directory.upstreamPbx?.(requestUri.host) : undefined;
  if (pbx && requestUri.userText)
    return { kind: 'pbx', pbx, user: requestUri.userText, domain: requestUri.host.toLowerCase() };
  const domain =
    requestUri.hostType === 'domain' && directory.servesDomain(requestUri.host)
      ? requestUri.host.toLowerCase()
      : caller.domain;
  const user = requestUri.userText;
  // A hunt group's user part is looked up after the subscribers' (the API keeps the two apart).
  const byName = user ? directory.findSubscriber(user, domain) : undefined;
  const group = !byName && user ? deps.huntGroups?.find(user, domain) : undefined;
  if (group) return { kind: 'huntGroup', group };
  // An auto-attendant's likewise (its user part is neither a subscriber's nor a group's).
  const attendant = !byName && user ? deps.attendants?.attendants.find(user, domain) : undefined;
  if (attendant) return { kind: 'attendant', attendant };
  if (byName || !user || !numbering) return { kind: 'subscriber', subscriber: byName };
  const rewritten = rewriteFromSubscriber(numbering, caller.id, 'callee', user);
  let e164: string | undefined;
  if (rewritten.matched) {
    e164 = asE164(rewritten.value) ?? undefined;
    if (!e164) return { kind: 'subscriber', subscriber: directory.findSubscriber(rewritten.value, domain) };
  } else {
    try {
      const normalised = numbering.normalise(caller.domain, user, caller.id);
      if (normalised.kind === 'e164') e164 = normalised.e164;
    } catch {
      e164 = undefined;
    }
  }
  if (!e164) return { kind: 'subscriber', subscriber: undefined };
  const mapping = numbering.lookupNumber(e164);
  if (!mapping) {
    const group = groupOfNumber(deps, e164);
    if (group) return { kind: 'huntGroup', group };
    const attendant = attendantOfNumber(deps, e164);
    return attendant ? { kind: 'attendant', attendant } : { kind: 'pstn', e164 };
  }
  return {
    kind: 'subscriber',
    subscriber: directory.findSubscriber(mapping.username, mapping.domain),
    number: mapping.e164,
  };
}

/** The enabled hunt group a number (DID) of ours rings, if it rings one. */
function groupOfNumber(deps: ClassifyDeps, e164: string): CachedHuntGroup | undefined {
  const number = deps.numbering?.lookupHuntGroupNumber(e164);
  return number ? deps.huntGroups?.findById(number.huntGroupId) : undefined;
}

/** The enabled auto-attendant a number (DID) of ours is answered by, if one is. */
function attendantOfNumber(deps: ClassifyDeps, e164: string): CachedAttendant | undefined {
  const number = deps.numbering?.lookupAttendantNumber(e164);
  return number ? deps.attendants?.attendants.findById(number.autoAttendantId) : undefined;
}
