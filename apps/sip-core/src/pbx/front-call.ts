import { type LegProfile, profiles } from '@switchboard/media';
import type { BanService } from '../access/ban-service.ts';
import { Call } from '../calls/call.ts';
import type { CallPlan, CallTarget } from '../calls/call-types.ts';
import { deviceTargets } from '../calls/devices.ts';
import { callerLegProfile } from '../calls/leg-profile.ts';
import { callDeps, type InviteDeps } from '../calls/stages/deps.ts';
import type { CdrStart } from '../cdr/cdr-writer.ts';
import type { Directory } from '../directory/directory.ts';
import { type IncomingRequest, type Middleware, parsedOf } from '../sip/request.ts';
import { FLOW_TOKEN, type FlowTokens, flowBinding, type PhoneFlow, pbxProxy } from './fronted-flows.ts';
import { countCredentials } from './relay-answer.ts';

export type FrontCallDeps = Pick<
  InviteDeps,
  'srf' | 'media' | 'cdr' | 'calls' | 'config' | 'engine' | 'log'
> & {
  directory: Pick<Directory, 'upstreamPbx'>;
  tokens: FlowTokens;
  nodeName: string;
  /** A PBX refusing a phone's INVITE credentials counts like our own refusal (as for REGISTER). */
  bans: Pick<BanService, 'recordFailure' | 'recordSuccess'>;
};

/** The flow token of a request the PBX routed to us: the user of its first Route (our Path entry), else of the Request-URI (our Contact). */
export function flowTokenOf(req: IncomingRequest): string | undefined {
  const route = req.get('Route');
  const user = (value: string | undefined) => {
    const candidate = value ? /^\s*<?sips?:([^@;>]+)@/i.exec(value)?.[1] : undefined;
    return candidate && FLOW_TOKEN.test(candidate) ? candidate : undefined;
  };
  return user(route?.split(',')[0]) ?? user(req.uri);
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
      if (!flow || deps.directory.upstreamPbx(domain)?.gatewayId !== peer.gatewayId)
        return res.send(404, 'Not Found');
      return toPhone(deps, req, flow, peer.gatewayId);
    }
    const from = parsed.from.uri;
    const pbx = from.kind === 'sip' && !peer ? deps.directory.upstreamPbx(from.host) : undefined;
    if (!pbx) return next();
    const credentials: Record<string, string> = {};
    for (const name of ['Proxy-Authorization', 'Authorization']) {
      const value = req.get(name);
      if (value !== undefined) credentials[name] = value;
    }
    const target: CallTarget = {
      uri: req.uri,
      proxy: pbxProxy(pbx),
      profile: profiles.publicPeer,
      gatewayId: pbx.gatewayId,
      headers: credentials,
      relayChallenge: true,
    };
    const user = from.kind === 'sip' ? `${from.userText ?? ''}@${from.host.toLowerCase()}` : '';
    return connect(deps, req, {
      targets: [target],
      callerProfile: callerLegProfile(req.srf?.req.body, profiles.natSubscriber),
      cdr: cdrStart(req, 'outbound'),
      calleeRouted: req.uri,
      onRefused: (status, headers) =>
        countCredentials(deps.bans, req, user, { status, get: (name) => headers[name] }),
    });
  };
}

function toPhone(
  deps: FrontCallDeps,
  req: IncomingRequest,
  flow: PhoneFlow,
  gatewayId: string,
): Promise<void> {
  // The PBX's users have no SRTP policy of ours: a phone that registered over TLS is offered SDES-SRTP
  // (RFC 4568; its keys travel only over that TLS connection), any other plain RTP.
  const srtp = flow.transport === 'tls' ? 'preferred' : 'optional';
  return connect(deps, req, {
    targets: deviceTargets([flowBinding(flow, deps.nodeName)], undefined, srtp),
    callerProfile: callerLegProfile(req.srf?.req.body, profiles.publicPeer),
    cdr: { ...cdrStart(req, 'inbound'), peerGatewayId: gatewayId },
    calleeRouted: flow.aor,
  });
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
