import type { Logger } from 'pino';
import type { BanService } from '../access/ban-service.ts';
import type { Destination } from '../calls/plan.ts';
import type { CachedSubscriber, Directory } from '../directory/directory.ts';
import { type IncomingRequest, type Middleware, parsedOf, type SipResponse } from '../sip/request.ts';
import type { SrfRequester } from '../sip/srf-request.ts';
import { phoneTargetOf } from './from-pbx.ts';
import { type FlowTokens, pbxProxy } from './fronted-flows.ts';
import { countCredentials, relayFinal } from './relay-answer.ts';

export interface MessageRelayDeps {
  directory: Pick<Directory, 'upstreamPbx'>;
  bans: Pick<BanService, 'recordFailure' | 'recordSuccess'>;
  tokens: FlowTokens;
  srf: SrfRequester;
  nodeName: string;
  log: Logger;
  /** How long the PBX or the phone may take to answer (below the sender's Timer F, 32 s). */
  answerTimeoutMs?: number;
}

/**
 * MESSAGE (RFC 3428) of fronted domains (docs/sbc.md, "Fronting a PBX"), after the platform's
 * admission (bans, rate limit, scanner filter) and before its own digest, relayed as a new request
 * of ours in each direction (our Via, no Contact, no User-Agent of the sender):
 * - from the domain's PBX with one of our flow tokens in its Route (our Path) or Request-URI (our
 *   Contact): to the phone's Contact over the flow the token names;
 * - from a phone of a fronted domain: to its PBX, Request-URI as the phone addressed it, the
 *   phone's credentials on and the PBX's challenge back (digest end to end, refusals counted
 *   towards the sender's ban as for REGISTER).
 * The far end's final status is the answer; none within the timeout is a 408. Others go on to the
 * platform's own MESSAGE chain.
 */
export function relayMessage(deps: MessageRelayDeps): Middleware {
  return async (req, res, next) => {
    const parsed = parsedOf(req);
    const target = phoneTargetOf(deps, req);
    if (target === 'refused') return res.send(404, 'Not Found');
    if (target) {
      // The PBX's Call-ID goes on (it is ours, derived, when the sender is one of our phones).
      const headers = { ...carried(req), 'Call-ID': parsed.callId };
      await forward(deps, req, res, target.uri, { proxy: target.proxy, headers });
      return;
    }
    const from = parsed.from.uri;
    const peer = req.locals.source.peer;
    const pbx = from.kind === 'sip' && !peer ? deps.directory.upstreamPbx(from.host) : undefined;
    if (!pbx || from.kind !== 'sip') return next();
    const headers: Record<string, string> = {
      ...carried(req),
      'Call-ID': deps.tokens.callIdFor(parsed.callId),
      CSeq: `${parsed.cseq.seq} MESSAGE`,
    };
    for (const name of ['Proxy-Authorization', 'Authorization']) {
      const value = req.get(name);
      if (value !== undefined) headers[name] = value;
    }
    const answer = await forward(deps, req, res, req.uri, { proxy: pbxProxy(pbx), headers });
    if (answer) await countCredentials(deps.bans, req, `${from.userText ?? ''}@${from.host}`, answer);
  };
}

/**
 * A subscriber's MESSAGE to a user of a fronted domain (docs/sbc.md, "Fronting a PBX"), after the
 * platform's own checks of the sender (digest, size, sending rate): to the domain's PBX as a request
 * of ours, From the sender's address of record, Request-URI and To as addressed, a Call-ID derived
 * from the sender's. The PBX's status is the answer (none: 408); it routes the message on, to one of
 * its phones through our Path. Nothing is stored (the PBX keeps what it keeps).
 */
export function messageToPbx(deps: MessageRelayDeps) {
  return async (
    req: IncomingRequest,
    res: SipResponse,
    destination: Extract<Destination, { kind: 'pbx' }>,
    sender: CachedSubscriber,
  ): Promise<void> => {
    const headers: Record<string, string> = {
      ...carried(req),
      From: `<sip:${sender.username}@${sender.domain}>`,
      'Call-ID': deps.tokens.callIdFor(parsedOf(req).callId),
    };
    await forward(deps, req, res, req.uri, { proxy: pbxProxy(destination.pbx), headers });
  };
}

/** What a relayed MESSAGE keeps of the received one: its parties, content and expiry. */
function carried(req: IncomingRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['From', 'To', 'Content-Type', 'Date', 'Expires']) {
    const value = req.get(name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

/** Sends the MESSAGE on and answers the sender with the far end's status; resolves with that answer. */
function forward(
  deps: MessageRelayDeps,
  req: IncomingRequest,
  res: SipResponse,
  uri: string,
  request: { proxy: string | undefined; headers: Record<string, string> },
) {
  const body = req.srf?.req.body ?? '';
  return relayFinal(deps, res, uri, { ...request, method: 'MESSAGE', body }, deps.answerTimeoutMs ?? 8_000);
}
