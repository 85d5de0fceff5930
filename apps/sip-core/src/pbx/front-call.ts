import { type LegProfile, profiles } from '@switchboard/media';
import type { BanService } from '../access/ban-service.ts';
import { Call } from '../calls/call.ts';
import type { CallPlan, CallTarget } from '../calls/call-types.ts';
import { deviceTargets } from '../calls/devices.ts';
import { callerLegProfile } from '../calls/leg-profile.ts';
import { callDeps, type InviteDeps } from '../calls/stages/deps.ts';
import type { CdrStart } from '../cdr/cdr-writer.ts';
import type { Directory, UpstreamPbx } from '../directory/directory.ts';
import { callingPeerDialog, claimPeer, peerLegFactory, receivedFromPeer } from '../sbc/towards-peer.ts';
import { type IncomingRequest, type Middleware, parsedOf, type SipResponse } from '../sip/request.ts';
import { FLOW_TOKEN, type FlowTokens, flowBinding, type PhoneFlow, pbxProxy } from './fronted-flows.ts';
import { countCredentials } from './relay-answer.ts';
import { pbxGateway } from './to-pbx.ts';

export type FrontCallDeps = Pick<
  InviteDeps,
  'srf' | 'media' | 'cdr' | 'calls' | 'config' | 'engine' | 'log' | 'sbc' | 'health' | 'numbering'
> & {
  directory: Pick<Directory, 'upstreamPbx'>;
  tokens: FlowTokens;
  nodeName: string;
  /** A PBX refusing a phone's INVITE credentials counts like our own refusal (as for REGISTER). */
  bans: Pick<BanService, 'recordFailure' | 'recordSuccess'>;
};

/** The flow token of a request the PBX routed to us: the user of its first Route (our Path entry), else of the Request-URI (our Contact). */
export function flowTokenOf(req: IncomingRequest): string | undefined {
  return flowTokenIn(req.get('Route')?.split(',')[0]) ?? flowTokenIn(req.uri);
}

/** The user part of a SIP URI (or a name-addr's) when it is one of our flow tokens. */
function flowTokenIn(value: string | undefined): string | undefined {
  const candidate = value ? /^\s*<?sips?:([^@;>]+)@/i.exec(value)?.[1] : undefined;
  return candidate && FLOW_TOKEN.test(candidate) ? candidate : undefined;
}

/**
 * New calls of fronted domains (docs/sbc.md, "Fronting a PBX"), before the platform's own digest and
 * stages, as B2BUA calls with media through the relay like every other call (the PBX sees only our
 * Via, Contact and media addresses):
 * - from the domain's PBX (its gateway's source address) with one of our flow tokens in its Route or
 *   Request-URI: to that phone's Contact, over the flow the token names;
 * - from a phone of a fronted domain: to its PBX, which authenticates the caller end to end (its
 *   401/407 goes back to the phone, the phone's credentials on to the PBX; we hold no secrets of its
 *   users). Credentials it refuses (a new challenge, 403) count towards the phone's address's ban.
 * Both are calls with the PBX's gateway as a peer (docs/sbc.md): its admission limits count them
 * (503 with Retry-After over a limit), and the phone's call to it gets its health check, header rules,
 * topology hiding, codec policy and duration cap as our subscribers' calls to it do (to-pbx.ts).
 * Any other INVITE goes on to the platform's own chain.
 */
export function frontCall(deps: FrontCallDeps): Middleware {
  return async (req, res, next) => {
    const parsed = parsedOf(req);
    if (parsed.to.tag !== undefined) return next();
    const token = flowTokenOf(req);
    const peer = req.locals.source.peer;
    if (token && peer) {
      const flow = deps.tokens.open(token);
      const domain = flow?.aor.split('@')[1] ?? '';
      const pbx = flow && deps.directory.upstreamPbx(domain);
      if (!flow || !pbx || pbx.gatewayId !== peer.gatewayId) return res.send(404, 'Not Found');
      return toPhone(deps, req, res, flow, pbx);
    }
    const from = parsed.from.uri;
    const pbx = from.kind === 'sip' && !peer ? deps.directory.upstreamPbx(from.host) : undefined;
    if (!pbx || from.kind !== 'sip') return next();
    // A PBX its health check has down gets no calls, as LCR skips a gateway that is down.
    if (deps.health?.isDown(pbx.gatewayId)) return res.send(503, 'Service Unavailable');
    const credentials: Record<string, string> = {};
    for (const name of ['Proxy-Authorization', 'Authorization']) {
      const value = req.get(name);
      if (value !== undefined) credentials[name] = value;
    }
    // The gateway's part of the leg, as on any call to a peer (none of the phone's headers pass).
    const { hidesTopology, ...peerPart } = deps.sbc
      ? peerLegFactory(
          deps.sbc,
          deps.calls,
          [],
        )(pbxGateway(deps.numbering, pbx), {
          caller: from.userText,
          callee: parsed.requestUri.userText ?? '',
          domain: from.host.toLowerCase(),
        })
      : { hidesTopology: false };
    const target: CallTarget = {
      uri: req.uri,
      proxy: pbxProxy(pbx),
      profile: profiles.publicPeer,
      ...peerPart,
      gatewayId: pbx.gatewayId,
      headers: credentials,
      relayChallenge: true,
    };
    const user = `${from.userText ?? ''}@${from.host.toLowerCase()}`;
    return connect(deps, req, {
      targets: [target],
      callerProfile: callerLegProfile(req.srf?.req.body, profiles.natSubscriber),
      cdr: cdrStart(req, 'outbound'),
      calleeRouted: req.uri,
      withheld: hidesTopology,
      onRefused: (status, headers) =>
        countCredentials(deps.bans, req, user, { status, get: (name) => headers[name] }),
    });
  };
}

async function toPhone(
  deps: FrontCallDeps,
  req: IncomingRequest,
  res: SipResponse,
  flow: PhoneFlow,
  pbx: UpstreamPbx,
): Promise<void> {
  const gateway = pbxGateway(deps.numbering, pbx);
  const domain = flow.aor.split('@')[1] ?? '';
  const policy = deps.sbc?.policyOf(gateway.gatewayId, gateway.groupId, domain);
  // A call from a peer counts for its gateway and group; over a limit it gets 503 with Retry-After.
  const claim = policy && claimPeer(deps.calls, gateway, policy);
  if (claim && !claim.ok)
    return res.send(claim.status, claim.reason, {
      headers: claim.retryAfter ? { 'Retry-After': String(claim.retryAfter) } : {},
    });
  // The PBX's users have no SRTP policy of ours: a phone that registered over TLS is offered SDES-SRTP
  // (RFC 4568; its keys travel only over that TLS connection), any other plain RTP.
  const srtp = flow.transport === 'tls' ? 'preferred' : 'optional';
  const parsed = parsedOf(req);
  const caller = parsed.from.uri.kind === 'sip' ? parsed.from.uri.userText : undefined;
  try {
    await connect(deps, req, {
      targets: deviceTargets([flowBinding(flow, deps.nodeName)], undefined, srtp),
      callerProfile: callerLegProfile(req.srf?.req.body, profiles.publicPeer),
      cdr: { ...cdrStart(req, 'inbound'), peerGatewayId: pbx.gatewayId },
      calleeRouted: flow.aor,
      // In-dialog requests and responses back to the PBX by its outbound header rules, and its own
      // in-dialog requests by its inbound ones before anything of them crosses (as for a carrier).
      callerDialog: deps.sbc && callingPeerDialog(deps.sbc, gateway, { caller, callee: flow.aor, domain }),
      callerFromPeer:
        deps.sbc &&
        receivedFromPeer(deps.sbc.rulesFor('inbound', gateway, domain), {
          direction: 'inbound',
          sourceAddress: req.locals.source.address,
          caller,
          callee: flow.aor,
        }),
    });
  } finally {
    if (claim?.ok) claim.release();
  }
}

function cdrStart(req: IncomingRequest, direction: 'inbound' | 'outbound'): CdrStart {
  const parsed = parsedOf(req);
  const { source } = req.locals;
  const from = parsed.from.uri;
  return {
    callId: parsed.callId,
    aLegId: parsed.callId,
    direction,
    callerDialled: from.kind === 'sip' ? `sip:${from.userText ?? ''}@${from.host}` : '',
    calleeDialled: req.uri,
    startedAt: new Date(),
    sourceAddress: `${source.transport}:${source.address}:${source.port}`,
  };
}

/** The call itself: From and To as the caller sent them (without tags), ringing the one target. */
async function connect(
  deps: FrontCallDeps,
  req: IncomingRequest,
  leg: {
    targets: CallPlan['targets'];
    callerProfile: LegProfile;
    cdr: CdrStart;
    calleeRouted: string;
    onRefused?: CallPlan['onRefused'];
    withheld?: boolean;
    callerDialog?: CallPlan['callerDialog'];
    callerFromPeer?: CallPlan['callerFromPeer'];
  },
): Promise<void> {
  if (!req.srf) throw new Error('INVITE without its drachtio-srf request and response');
  const parsed = parsedOf(req);
  const plan: CallPlan = {
    ...leg,
    from: nameAddr(parsed.from.displayName, parsed.from.uri.toString()),
    to: nameAddr(parsed.to.displayName, parsed.to.uri.toString()),
    callerRouted: leg.cdr.callerDialled,
    ringTimeoutS: deps.config.ringTimeout,
  };
  const call = new Call(req.srf.req, req.srf.res, plan, callDeps(deps));
  await call.run(deps.calls.add(call));
}

function nameAddr(displayName: string | undefined, uri: string): string {
  return displayName ? `"${displayName.replace(/["\\]/g, '')}" <${uri}>` : `<${uri}>`;
}
