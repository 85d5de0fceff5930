import type { PrismaClient } from '@switchboard/db';
import { type LegProfile, type MediaRelay, profiles } from '@switchboard/media';
import { type LcrResult, NumberingError, type NumberingIndex } from '@switchboard/numbering';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { CdrEnd, CdrStart, CdrWriter } from '../cdr/cdr-writer.ts';
import type { CachedSubscriber, Directory } from '../directory/directory.ts';
import type { Binding } from '../location/binding.ts';
import type { LocationService } from '../location/location-service.ts';
import { type Middleware, parsedOf } from '../sip/request.ts';
import type { ActiveCalls } from './active-calls.ts';
import { Call, type CallStage, type CallTarget, dispositionOf } from './call.ts';
import { type CallForwards, ForwardingRoute, type Refusal } from './forwarding.ts';
import {
  asE164,
  domainVariables,
  rewriteFromPeer,
  rewriteFromSubscriber,
  rewriteToSubscriber,
} from './number-rewrite.ts';
import { ANONYMOUS_FROM, withholdsIdentity } from './privacy.ts';

export interface CallsConfig {
  /** Seconds a callee may ring before the call ends as not answered (480). */
  ringTimeout: number;
  /** Cap on one call's duration in seconds when the customer sets none; 0: unlimited. */
  maxCallDuration: number;
  /**
   * Caller ID of a call forwarded to the PSTN: `original`, the original caller's number when it is
   * known (E.164), else the forwarding subscriber's; `forwarder`, always the forwarding subscriber's.
   */
  forwardedCallerId: 'original' | 'forwarder';
}

export const DEFAULT_CALLS: CallsConfig = {
  ringTimeout: 60,
  maxCallDuration: 0,
  forwardedCallerId: 'original',
};

/** The caller of a call that a subscriber forwards: its number (E.164) and whether it asked for CLIR. */
export interface OriginalCaller {
  number: string;
  clir: boolean;
}

export interface InviteDeps {
  srf: Srf;
  media: MediaRelay;
  cdr: CdrWriter;
  directory: Directory;
  /** Call forwards of every subscriber, held in memory. */
  forwards: CallForwards;
  location: LocationService;
  prisma: PrismaClient;
  calls: ActiveCalls;
  /** Number mapping and LCR; without it only usernames are callable. */
  numbering?: NumberingIndex | undefined;
  config: CallsConfig;
  log: Logger;
  /** The drachtio-srf response object of a request (the chain sees only a narrow wrapper). */
  responseOf(req: unknown): Srf.SrfResponse | undefined;
}

/** Where to send a request for a binding: its NAT-facing source address and transport. */
export function bindingTarget(binding: Binding, profile: LegProfile): CallTarget {
  const host = binding.receivedAddress.includes(':')
    ? `[${binding.receivedAddress}]`
    : binding.receivedAddress;
  return {
    uri: binding.contactUri,
    proxy: `sip:${host}:${binding.receivedPort};transport=${binding.transport === 'wss' ? 'wss' : binding.transport}`,
    profile,
  };
}

function displayPart(display: string | undefined): string {
  return display ? `"${display.replace(/["\\]/g, '')}" ` : '';
}

interface Party {
  id: string;
  customerId: string;
  maxConcurrentCalls: number | null;
  customer: { maxConcurrentCalls: number | null; maxCallDuration: number | null };
}

/**
 * The last stage for a new INVITE: finds the callee, checks the limits, then runs the call as a
 * B2BUA. Subscriber to subscriber: the callee is a user of one of our domains, addressed by username.
 */
export function inviteHandler(deps: InviteDeps): Middleware {
  const loadParty = (id: string): Promise<Party | null> =>
    deps.prisma.subscriber.findUnique({
      where: { id },
      select: {
        id: true,
        customerId: true,
        maxConcurrentCalls: true,
        customer: { select: { maxConcurrentCalls: true, maxCallDuration: true } },
      },
    });

  /**
   * The B leg of an outgoing call of `subscriber` to `e164` (its own call, or one it forwards): LCR
   * picks the gateways, tried in order; the callee and caller are rewritten with the subscriber's
   * `outbound_to_peer` rules and its primary number is asserted (RFC 3325), withheld under CLIR. A
   * forwarded call presents `original` instead (the original caller, as carriers do, the Diversion
   * naming the forwarder), with that caller's CLIR.
   */
  const pstnStage = async (
    subscriber: CachedSubscriber,
    e164: string,
    original?: OriginalCaller,
  ): Promise<Omit<CallStage, 'ringTimeoutS'> | Refusal> => {
    const numbering = deps.numbering;
    if (!numbering) return { status: 404, reason: 'Not Found' };
    const presentation = numbering.presentSubscriber(subscriber.id);
    // The caller's number as the subscriber's `from_subscriber` rules make it, before routing.
    const callerNumber = presentation?.number
      ? rewriteFromSubscriber(numbering, subscriber.id, 'caller', presentation.number).value
      : undefined;
    let route: LcrResult;
    try {
      route = numbering.routeCall({ callee: e164, caller: callerNumber, subscriberId: subscriber.id });
    } catch (error) {
      const code = error instanceof NumberingError ? error.code : 'internal';
      if (code === 'blocked') return { status: 403, reason: 'Forbidden' };
      if (code === 'no-route') return { status: 404, reason: 'No Route' };
      return { status: 484, reason: 'Address Incomplete' };
    }
    const callee = numbering.rewriteForSubscriber(
      subscriber.id,
      'outbound_to_peer',
      'callee',
      route.callee,
    ).output;
    const presented = original?.number ?? callerNumber;
    const identity = presented
      ? numbering.rewriteForSubscriber(subscriber.id, 'outbound_to_peer', 'caller', presented).output
      : undefined;
    const credentials = await deps.prisma.peerGateway.findMany({
      where: { id: { in: route.gateways.map((g) => g.gatewayId) } },
      select: { id: true, authUsername: true, authPassword: true },
    });
    const auth = new Map(
      credentials
        .filter((c) => c.authUsername && c.authPassword)
        .map((c) => [c.id, { username: c.authUsername ?? '', password: c.authPassword ?? '' }]),
    );
    const clir = original ? original.clir : (presentation?.clir ?? false);
    const targets: CallTarget[] = route.gateways.map((g) => ({
      uri: `sip:${callee}@${g.host}:${g.port}`,
      proxy: `sip:${g.host}:${g.port};transport=${g.transport}`,
      profile: profiles.publicPeer,
      gatewayId: g.gatewayId,
      auth: auth.get(g.gatewayId),
      // The network-asserted identity (RFC 3325) always carries the real number; Privacy asks the
      // trusted network to withhold it from the callee under CLIR.
      headers: identity
        ? {
            'P-Asserted-Identity': `<sip:${identity}@${subscriber.domain}>`,
            ...(clir ? { Privacy: 'id' } : {}),
          }
        : {},
    }));
    const from = clir || !identity ? ANONYMOUS_FROM : `<sip:${identity}@${subscriber.domain}>`;
    return {
      targets,
      serial: true,
      from,
      to: `<sip:${callee}@${subscriber.domain}>`,
      callerRouted: identity,
      calleeRouted: callee,
    };
  };

  /**
   * The call to a subscriber with its call forwards (forwarding.ts); `calleeCustomerId`: the
   * original callee's customer, already counted for the limits; `to`: what the original callee's
   * devices are shown (its `to_subscriber` rules), forwarded-to subscribers are shown their address.
   */
  const forwardingRoute = (
    srfReq: Srf.SrfRequest,
    callId: string,
    callee: CachedSubscriber,
    calleeCustomerId: string | undefined,
    from: string,
    to: string,
    originalCaller: OriginalCaller | undefined,
  ): ForwardingRoute =>
    new ForwardingRoute(
      {
        forwards: deps.forwards,
        directory: deps.directory,
        numbering: deps.numbering,
        ringTimeoutS: deps.config.ringTimeout,
        log: deps.log,
        pstnStage: (subscriber, e164) =>
          pstnStage(
            subscriber,
            e164,
            deps.config.forwardedCallerId === 'original' ? originalCaller : undefined,
          ),
        subscriberStage: async (target, admit) => {
          let customerId = target.id === callee.id ? calleeCustomerId : undefined;
          let release = (): void => {};
          if (admit) {
            // A forwarded call counts for the subscriber it reaches, like a direct call.
            const party = await loadParty(target.id);
            if (party) {
              const admission = deps.calls.admit(
                party.id,
                party.customerId,
                {
                  subscriberMax: party.maxConcurrentCalls,
                  customerMax: party.customer.maxConcurrentCalls,
                },
                callId,
              );
              if (!admission.ok) return { status: admission.status, reason: admission.reason };
              customerId = party.customerId;
              release = deps.calls.hold(callId, [{ subscriberId: party.id, customerId: party.customerId }]);
            }
          }
          const aor = `sip:${target.username}@${target.domain}`;
          return {
            stage: {
              targets: deps.location.lookup(aor).map((b) => bindingTarget(b, profiles.natSubscriber)),
              from,
              to: target.id === callee.id ? to : `<${aor}>`,
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
        requestUri: srfReq.uri,
        diversion: srfReq.get('Diversion') || undefined,
        historyInfo: srfReq.get('History-Info') || undefined,
      },
    );

  /**
   * From a trusted peer (a gateway, no digest): the Request-URI's number, in the peer's format made
   * ours by its peering group's `inbound_from_peer` rules, is a DID of one of our subscribers, whose
   * registered devices ring in parallel.
   */
  const inbound = async (
    req: Parameters<Middleware>[0],
    srfReq: Srf.SrfRequest,
    srfRes: Srf.SrfResponse,
    parsed: ReturnType<typeof parsedOf>,
  ): Promise<void> => {
    const peer = req.locals.source.peer;
    const callerDialled = parsed.from.uri.kind === 'sip' ? (parsed.from.uri.userText ?? '') : '';
    const cdrStart: CdrStart = {
      callId: parsed.callId,
      aLegId: parsed.callId,
      direction: 'inbound',
      callerDialled,
      calleeDialled: req.uri,
      startedAt: new Date(),
      sourceAddress: `${req.locals.source.transport}:${req.locals.source.address}:${req.locals.source.port}`,
      peerGatewayId: peer?.gatewayId,
      // Known from the first request on, so that even a refused attempt keeps the caller withheld.
      callerWithheld: withholdsIdentity(srfReq.get('Privacy')),
    };
    const requestUri = parsed.requestUri;
    const calledDomain =
      requestUri.hostType === 'domain' && deps.directory.servesDomain(requestUri.host)
        ? requestUri.host.toLowerCase()
        : undefined;
    const variables = deps.numbering ? domainVariables(deps.numbering, calledDomain) : {};
    const calleeNumber = rewriteFromPeer(
      deps.numbering,
      peer?.groupId,
      'callee',
      requestUri.userText ?? '',
      variables,
    ).value;
    const callerNumber = rewriteFromPeer(
      deps.numbering,
      peer?.groupId,
      'caller',
      callerDialled,
      variables,
    ).value;
    const e164 = asE164(calleeNumber);
    const mapping = e164 ? deps.numbering?.lookupNumber(e164) : null;
    const callee = mapping ? deps.directory.findSubscriber(mapping.username, mapping.domain) : undefined;
    if (!mapping || !callee?.enabled) {
      srfRes.send(404, 'Not Found', {});
      await deps.cdr.finish(undefined, cdrStart, {
        endedAt: new Date(),
        disposition: 'failed',
        sipCode: 404,
        sipReason: 'Not Found',
        callerRouted: callerNumber,
        calleeRouted: calleeNumber,
      });
      return;
    }
    const party = await loadParty(callee.id);
    if (party) {
      const admission = deps.calls.admit(party.id, party.customerId, {
        subscriberMax: party.maxConcurrentCalls,
        customerMax: party.customer.maxConcurrentCalls,
      });
      if (!admission.ok) {
        srfRes.send(admission.status, admission.reason, {});
        await deps.cdr.finish(undefined, cdrStart, {
          endedAt: new Date(),
          disposition: dispositionOf(admission.status),
          sipCode: admission.status,
          sipReason: admission.reason,
        });
        return;
      }
    }
    const aor = `sip:${callee.username}@${callee.domain}`;
    // What the callee's phones are shown: its own `to_subscriber` rules on the caller and the DID.
    const shownCaller = rewriteToSubscriber(deps.numbering, callee.id, 'caller', callerNumber).value;
    const shownCallee = rewriteToSubscriber(deps.numbering, callee.id, 'callee', mapping.e164);
    // A caller that asked the trusted network for privacy (RFC 3323 §4.2, RFC 3325 §9.3) is withheld
    // from the callee's devices, which are not trusted (RFC 3325 §3): they get the anonymous From.
    // The CDR keeps the caller (dialled as sent, routed as it would have been shown) for the operator.
    const privacy = cdrStart.callerWithheld === true;
    const from = privacy || !shownCaller ? ANONYMOUS_FROM : `<sip:${shownCaller}@${callee.domain}>`;
    cdrStart.callerWithheld = from === ANONYMOUS_FROM;
    const to = shownCallee.matched ? `<sip:${shownCallee.value}@${callee.domain}>` : `<${aor}>`;
    // A peer's caller number, if it is one, is presented again when the call is forwarded to the PSTN,
    // with the privacy it asked for (From anonymous, `Privacy: id`).
    const peerCaller = asE164(callerNumber);
    const route = forwardingRoute(
      srfReq,
      parsed.callId,
      callee,
      party?.customerId,
      from,
      to,
      peerCaller ? { number: peerCaller, clir: privacy } : undefined,
    );
    const call = new Call(
      srfReq,
      srfRes,
      {
        targets: deps.location.lookup(aor).map((b) => bindingTarget(b, profiles.natSubscriber)),
        route: (c) => route.run(c),
        from,
        to,
        callerProfile: profiles.publicPeer,
        cdr: cdrStart,
        calleeSubscriberId: callee.id,
        calleeCustomerId: party?.customerId,
        callerRouted: shownCaller,
        withheld: privacy,
        calleeRouted: aor,
        ringTimeoutS: deps.config.ringTimeout,
        maxDurationS: party?.customer.maxCallDuration ?? undefined,
      },
      { srf: deps.srf, media: deps.media, cdr: deps.cdr, log: deps.log },
    );
    await call.run(deps.calls.add(call, [{ subscriberId: callee.id, customerId: party?.customerId }]));
  };

  return async (req, res, next) => {
    const srfRes = deps.responseOf(req);
    if (!srfRes) return next(new Error('INVITE without its drachtio-srf response'));
    const srfReq = req as unknown as Srf.SrfRequest;
    const parsed = parsedOf(req);
    if (parsed.to.tag !== undefined) return res.send(481, 'Call/Transaction Does Not Exist');
    const caller = req.locals.subscriber;
    if (!caller) {
      if (req.locals.source.trusted) return inbound(req, srfReq, srfRes, parsed);
      return res.send(403, 'Forbidden');
    }

    const callerUri = `sip:${caller.username}@${caller.domain}`;
    const cdrStart: CdrStart = {
      callId: parsed.callId,
      aLegId: parsed.callId,
      direction: 'internal',
      callerDialled:
        parsed.from.uri.kind === 'sip'
          ? `sip:${parsed.from.uri.userText}@${parsed.from.uri.host}`
          : callerUri,
      calleeDialled: req.uri,
      startedAt: new Date(),
      sourceAddress: `${req.locals.source.transport}:${req.locals.source.address}:${req.locals.source.port}`,
      callerSubscriberId: caller.id,
    };
    /** A call refused before any B leg still gets its CDR row (every attempt is recorded). */
    const reject = async (status: number, reason: string, end: Partial<CdrEnd> = {}): Promise<void> => {
      res.send(status, reason);
      await deps.cdr.finish(undefined, cdrStart, {
        ...end,
        endedAt: new Date(),
        disposition: dispositionOf(status),
        sipCode: status,
        sipReason: reason,
      });
    };

    /** To the phone network: gateways in LCR order, failing over on 5xx/408 (see Call). */
    const outbound = async (e164: string): Promise<void> => {
      const leg = await pstnStage(caller, e164);
      if ('status' in leg) return reject(leg.status, leg.reason);
      cdrStart.direction = 'outbound';
      cdrStart.callerWithheld = leg.from === ANONYMOUS_FROM;
      const callerParty = await loadParty(caller.id);
      cdrStart.callerCustomerId = callerParty?.customerId;
      if (callerParty) {
        const admission = deps.calls.admit(callerParty.id, callerParty.customerId, {
          subscriberMax: callerParty.maxConcurrentCalls,
          customerMax: callerParty.customer.maxConcurrentCalls,
        });
        if (!admission.ok) return reject(admission.status, admission.reason);
      }
      const duration = callerParty?.customer.maxCallDuration ?? deps.config.maxCallDuration;
      const call = new Call(
        srfReq,
        srfRes,
        {
          ...leg,
          callerProfile: profiles.natSubscriber,
          cdr: cdrStart,
          callerRouted: leg.callerRouted ?? callerUri,
          ringTimeoutS: deps.config.ringTimeout,
          maxDurationS: duration && duration > 0 ? duration : undefined,
        },
        { srf: deps.srf, media: deps.media, cdr: deps.cdr, log: deps.log },
      );
      await call.run(
        deps.calls.add(call, [{ subscriberId: caller.id, customerId: callerParty?.customerId }]),
      );
    };

    const requestUri = parsed.requestUri;
    const domain =
      requestUri.hostType === 'domain' && deps.directory.servesDomain(requestUri.host)
        ? requestUri.host.toLowerCase()
        : caller.domain;
    const user = requestUri.userText;
    let callee = user ? deps.directory.findSubscriber(user, domain) : undefined;
    /** The number the callee was reached by (a DID), when it was not addressed by its username. */
    let calleeNumber: string | undefined;
    if (!callee && user && deps.numbering) {
      // A dialled number: one of ours (DID) rings that subscriber, any other goes to the PSTN. The
      // caller's `from_subscriber` rules run first; a rule that matched wrote the number in E.164 (with
      // or without `+`, as sip:provider's rules do) or a user name; otherwise the dial plan normalises it.
      const dialled = rewriteFromSubscriber(deps.numbering, caller.id, 'callee', user);
      let e164: string | undefined;
      if (dialled.matched) {
        e164 = asE164(dialled.value) ?? undefined;
        if (!e164) callee = deps.directory.findSubscriber(dialled.value, domain);
      } else {
        try {
          const normalised = deps.numbering.normalise(caller.domain, user, caller.id);
          if (normalised.kind === 'e164') e164 = normalised.e164;
        } catch {
          e164 = undefined;
        }
      }
      if (e164) {
        const mapping = deps.numbering.lookupNumber(e164);
        if (!mapping) return outbound(e164);
        callee = deps.directory.findSubscriber(mapping.username, mapping.domain);
        calleeNumber = mapping.e164;
      }
    }
    if (!callee?.enabled) return reject(404, 'Not Found');

    // The caller's own `from_subscriber` caller rules run on its primary number, as on its calls to the
    // PSTN; when one matches, its output is the caller instead of the username (docs/numbering.md). Not
    // under CLIR: the callee's devices are then shown neither number nor username (below), and the CDR
    // marks the caller withheld, also when a limit refuses the call before the callee's phones ring.
    const presentation = deps.numbering?.presentSubscriber(caller.id);
    const clir = presentation?.clir ?? false;
    cdrStart.callerWithheld = clir;

    const [callerParty, calleeParty] = await Promise.all([loadParty(caller.id), loadParty(callee.id)]);
    cdrStart.callerCustomerId = callerParty?.customerId;
    const aor = `sip:${callee.username}@${callee.domain}`;
    const calleeEnd = {
      calleeSubscriberId: callee.id,
      calleeCustomerId: calleeParty?.customerId,
      calleeRouted: aor,
      callerRouted: callerUri,
    };
    for (const party of [callerParty, calleeParty]) {
      if (!party) continue;
      const admission = deps.calls.admit(party.id, party.customerId, {
        subscriberMax: party.maxConcurrentCalls,
        customerMax: party.customer.maxConcurrentCalls,
      });
      if (!admission.ok) {
        deps.log.info(
          { subscriber: party.id, status: admission.status },
          'call refused by a concurrency limit',
        );
        return reject(admission.status, admission.reason, calleeEnd);
      }
    }

    const targets = deps.location.lookup(aor).map((b) => bindingTarget(b, profiles.natSubscriber));
    const durations = [callerParty?.customer.maxCallDuration, deps.config.maxCallDuration].filter(
      (d): d is number => typeof d === 'number' && d > 0,
    );
    const callerNumber =
      presentation?.number && !clir
        ? rewriteFromSubscriber(deps.numbering, caller.id, 'caller', presentation.number)
        : undefined;
    const callerShownAs = callerNumber?.matched ? callerNumber.value : caller.username;
    // The caller's number (after its own rules) as a forward to the PSTN presents it.
    const originalNumber = presentation?.number
      ? asE164(callerNumber?.matched ? callerNumber.value : presentation.number)
      : null;
    // What the callee's phones are shown: its own `to_subscriber` rules on the caller and the callee.
    const shownCaller = rewriteToSubscriber(deps.numbering, callee.id, 'caller', callerShownAs);
    const shownCallee = rewriteToSubscriber(
      deps.numbering,
      callee.id,
      'callee',
      calleeNumber ?? callee.username,
    );
    const shownCallerUri = `sip:${shownCaller.matched ? shownCaller.value : callerShownAs}@${caller.domain}`;
    // Under CLIR the callee's devices get the anonymous From (RFC 3323 §4.1.1.3), without the display
    // name the caller's phone sent; nothing else of the A leg reaches them (a B2BUA builds the B leg
    // afresh, with no P-Asserted-Identity: devices are not trusted, RFC 3325 §3). The CDR keeps the
    // caller (`caller_subscriber_id`, `caller_dialled`, `caller_routed`) for the operator.
    const from = clir ? ANONYMOUS_FROM : `${displayPart(parsed.from.displayName)}<${shownCallerUri}>`;
    const to = shownCallee.matched ? `<sip:${shownCallee.value}@${callee.domain}>` : `<${aor}>`;
    const route = forwardingRoute(
      srfReq,
      parsed.callId,
      callee,
      calleeParty?.customerId,
      from,
      to,
      originalNumber ? { number: originalNumber, clir } : undefined,
    );
    const call = new Call(
      srfReq,
      srfRes,
      {
        targets,
        route: (c) => route.run(c),
        from,
        to,
        callerProfile: profiles.natSubscriber,
        cdr: cdrStart,
        calleeSubscriberId: callee.id,
        calleeCustomerId: calleeParty?.customerId,
        callerRouted: shownCallerUri,
        withheld: clir,
        calleeRouted: aor,
        ringTimeoutS: deps.config.ringTimeout,
        maxDurationS: durations.length > 0 ? Math.min(...durations) : undefined,
      },
      { srf: deps.srf, media: deps.media, cdr: deps.cdr, log: deps.log },
    );
    const release = deps.calls.add(call, [
      { subscriberId: caller.id, customerId: callerParty?.customerId },
      { subscriberId: callee.id, customerId: calleeParty?.customerId },
    ]);
    await call.run(release);
  };
}
