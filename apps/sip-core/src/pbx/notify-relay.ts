import type { Logger } from 'pino';
import type { Directory } from '../directory/directory.ts';
import { type Middleware, parsedOf } from '../sip/request.ts';
import type { SrfRequester } from '../sip/srf-request.ts';
import { phoneTargetOf } from './from-pbx.ts';
import type { FlowTokens } from './fronted-flows.ts';
import { relayFinal } from './relay-answer.ts';

export interface NotifyRelayDeps {
  directory: Pick<Directory, 'upstreamPbx'>;
  tokens: FlowTokens;
  srf: SrfRequester;
  nodeName: string;
  log: Logger;
  /** How long the phone may take to answer (below the PBX's Timer F, 32 s). */
  answerTimeoutMs?: number;
}

/** What an out-of-dialog NOTIFY keeps on its way to the phone: its parties, event, state and body. */
const CARRIED = ['From', 'To', 'Event', 'Subscription-State', 'Content-Type'];

/**
 * A NOTIFY outside any dialog from a fronted domain's PBX to one of its phones (docs/sbc.md, "Fronting
 * a PBX"): an unsolicited message-summary (RFC 3842 §3, which PBXes send to a registered contact
 * without a subscription), routed by the flow token of our Path or Contact. It goes to the phone's
 * Contact over the token's flow as a request of ours (our Via, the PBX's Call-ID), and the phone's final
 * status is the answer. NOTIFYs inside a subscription reach that subscription's dialog, not this chain.
 */
export function relayNotify(deps: NotifyRelayDeps): Middleware {
  return async (req, res, next) => {
    const target = phoneTargetOf(deps, req);
    if (target === 'refused') return res.send(404, 'Not Found');
    if (!target) return next();
    // RFC 6665 §4.1.2: a NOTIFY carries a Contact (ours; the engine writes its address for localhost).
    const headers: Record<string, string> = { 'Call-ID': parsedOf(req).callId, Contact: '<sip:localhost>' };
    for (const name of CARRIED) {
      const value = req.get(name);
      if (value !== undefined) headers[name] = value;
    }
    await relayFinal(
      deps,
      res,
      target.uri,
      { method: 'NOTIFY', proxy: target.proxy, headers, body: req.srf?.req.body ?? '' },
      deps.answerTimeoutMs ?? 8_000,
    );
  };
}
