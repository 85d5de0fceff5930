import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { BanService } from '../access/ban-service.ts';
import type { Directory } from '../directory/directory.ts';
import { type IncomingRequest, type Middleware, parsedOf } from '../sip/request.ts';
import type { SrfResponse } from '../sip/srf-request.ts';
import { type FlowTokens, pbxProxy } from './fronted-flows.ts';
import { countCredentials, relayedHeaders } from './relay-answer.ts';

/** A request received inside a relayed subscription's dialog (drachtio-srf's). */
export interface DialogRequest {
  get(name: string): string | undefined;
  body?: string;
}

/** Its response (drachtio-srf's `res.send(status, reason, options)`). */
export interface DialogResponse {
  send(status: number, reason?: string, options?: { headers?: Record<string, string> }): void;
}

/** drachtio-srf's SUBSCRIBE dialog, either side, as the relay uses it. */
export interface RelayedDialog {
  request(options: { method: string; headers: Record<string, string>; body?: string }): Promise<SrfResponse>;
  on(event: 'notify' | 'subscribe', listener: (req: DialogRequest, res: DialogResponse) => void): void;
  on(event: 'unsubscribe' | 'destroy', listener: () => void): void;
  /** The 2xx that created a dialog we started (drachtio-srf's). */
  res?: SrfResponse;
}

/** A refusal of drachtio-srf's createUAC: the far end's status and its response (SipError). */
interface UacFailure {
  status?: number;
  reason?: string;
  res?: SrfResponse;
}

/**
 * srf.createUAC and srf.createUAS as they work for SUBSCRIBE (their bundled typings require an SDP).
 * createUAC in its callback form: the callback runs while the 2xx is being read, so the NOTIFY that
 * follows it at once finds its listener (a promise would resolve a tick too late).
 */
export interface SubscriptionRelaySrf {
  createUAC(
    uri: string,
    options: { method: 'SUBSCRIBE'; proxy: string; headers: Record<string, string> },
    callbacks: Record<string, never>,
    callback: (error: UacFailure | null, dialog: RelayedDialog) => void,
  ): unknown;
  createUAS(
    req: Srf.SrfRequest,
    res: Srf.SrfResponse,
    options: { headers: Record<string, string> },
  ): Promise<unknown>;
}

export interface SubscribeRelayDeps {
  directory: Pick<Directory, 'upstreamPbx'>;
  bans: Pick<BanService, 'recordFailure' | 'recordSuccess'>;
  tokens: FlowTokens;
  srf: SubscriptionRelaySrf;
  log: Logger;
}

/** What the SUBSCRIBE to the PBX keeps of the phone's: the event, its interval and the bodies it takes. */
const CARRIED = ['Event', 'Expires', 'Accept'];
const CREDENTIALS = ['Authorization', 'Proxy-Authorization'];
/** What a relayed NOTIFY keeps: the event, the subscription's state and the body's type. */
const NOTIFY_CARRIED = ['Event', 'Subscription-State', 'Content-Type'];

/**
 * SUBSCRIBE (RFC 6665) of a fronted domain's phone (docs/sbc.md, "Fronting a PBX"): message-summary,
 * presence, dialog or any other package is the PBX's business, not our notifier's. After the
 * platform's admission and before its own digest, the SUBSCRIBE goes to the domain's PBX as a new
 * dialog of ours (our Via and Contact, a Call-ID derived from the phone's, the phone's credentials
 * on); the PBX's refusal or challenge goes back as it came (a refused retry counts towards the
 * sender's ban, as for REGISTER). On its 2xx the phone's subscription dialog is accepted with the
 * expiry the PBX granted, and the two dialogs are tied:
 * - each NOTIFY of the PBX goes on in the phone's dialog, the phone's status back (a 481 ends the
 *   PBX's subscription, RFC 6665 §4.1.3);
 * - the phone's refresh goes on in the PBX's dialog with its answer back; its unsubscribe (Expires: 0,
 *   which drachtio-srf answers itself) too, and the PBX's final NOTIFY (`terminated`) ends both.
 * A SUBSCRIBE of any other sender goes on to the platform's own notifier.
 */
export function relaySubscribe(deps: SubscribeRelayDeps): Middleware {
  return async (req, res, next) => {
    const parsed = parsedOf(req);
    const from = parsed.from.uri;
    const peer = req.locals.source.peer;
    const pbx = from.kind === 'sip' && !peer ? deps.directory.upstreamPbx(from.host) : undefined;
    if (!pbx || from.kind !== 'sip' || parsed.to.tag !== undefined) return next();
    if (!req.srf) throw new Error('SUBSCRIBE without its drachtio-srf request and response');
    const headers: Record<string, string> = {
      // A new dialog of ours: the engine gives the From a tag of its own.
      From: (req.get('From') ?? '').replace(/;\s*tag=[^;]*/i, ''),
      To: req.get('To') ?? '',
      'Call-ID': deps.tokens.callIdFor(parsed.callId),
      CSeq: `${parsed.cseq.seq} SUBSCRIBE`,
    };
    for (const name of [...CARRIED, ...CREDENTIALS]) {
      const value = req.get(name);
      if (value !== undefined) headers[name] = value;
    }
    const user = `${from.userText ?? ''}@${from.host}`;
    let phoneSide: (dialog: RelayedDialog | undefined) => void = () => {};
    const phone = new Promise<RelayedDialog | undefined>((resolve) => {
      phoneSide = resolve;
    });
    let upstream: { dialog: RelayedDialog; answer: SrfResponse };
    try {
      upstream = await new Promise((resolve, reject) => {
        deps.srf.createUAC(
          req.uri,
          { method: 'SUBSCRIBE', proxy: pbxProxy(pbx), headers },
          {},
          (error, dialog) => {
            if (error) return reject(error);
            dialog.on('notify', (notify, answer) => void notifyPhone(deps.log, phone, notify, answer));
            resolve({ dialog, answer: dialog.res ?? { status: 200, get: () => undefined } });
          },
        );
      });
    } catch (error) {
      phoneSide(undefined);
      const failure = error as UacFailure;
      const answer: SrfResponse = failure.res ?? { status: failure.status ?? 500, get: () => undefined };
      res.send(answer.status, answer.reason ?? failure.reason ?? '', { headers: relayedHeaders(answer) });
      await countCredentials(deps.bans, req, user, answer);
      return;
    }
    await countCredentials(deps.bans, req, user, upstream.answer);
    // The expiry the PBX granted (RFC 6665 §4.2.1.1), else what the phone asked for.
    const expires = upstream.answer.get('Expires') ?? req.get('Expires');
    const accepted = (await deps.srf.createUAS(req.srf.req, req.srf.res, {
      headers: expires !== undefined ? { Expires: expires } : {},
    })) as RelayedDialog;
    phoneSide(accepted);
    tie(deps, accepted, upstream.dialog, req);
    deps.log.info({ aor: user, event: req.get('Event') }, 'subscription relayed to the PBX');
  };
}

/** A NOTIFY of the PBX, sent on in the phone's subscription; the phone's status is the PBX's answer. */
async function notifyPhone(
  log: Logger,
  phone: Promise<RelayedDialog | undefined>,
  notify: DialogRequest,
  answer: DialogResponse,
): Promise<void> {
  const dialog = await phone;
  if (!dialog) return answer.send(481, 'Subscription Does Not Exist');
  try {
    const reply = await dialog.request({
      method: 'NOTIFY',
      headers: pick(notify, NOTIFY_CARRIED),
      body: notify.body ?? '',
    });
    answer.send(reply.status, reply.reason ?? '');
  } catch (error) {
    log.info({ err: error }, 'relayed NOTIFY not delivered');
    answer.send(408, 'Request Timeout');
  }
}

/** The phone's refreshes and unsubscribe go on in the PBX's dialog. */
function tie(deps: SubscribeRelayDeps, phone: RelayedDialog, pbx: RelayedDialog, req: IncomingRequest): void {
  const event = req.get('Event') ?? '';
  phone.on('subscribe', (refresh, answer) => {
    const headers = { Event: event, ...pick(refresh, ['Expires', 'Accept', ...CREDENTIALS]) };
    pbx.request({ method: 'SUBSCRIBE', headers }).then(
      (reply) => {
        const expires = reply.get('Expires');
        const relayed = { ...relayedHeaders(reply), ...(expires !== undefined ? { Expires: expires } : {}) };
        answer.send(reply.status, reply.reason ?? '', { headers: relayed });
      },
      (error: unknown) => {
        deps.log.info({ err: error }, 'relayed refresh not answered');
        answer.send(408, 'Request Timeout');
      },
    );
  });
  // drachtio-srf has answered the unsubscribe (202); the PBX's final NOTIFY ends the phone's dialog.
  phone.on('unsubscribe', () => {
    pbx.request({ method: 'SUBSCRIBE', headers: { Event: event, Expires: '0' } }).catch((error: unknown) => {
      deps.log.info({ err: error }, 'relayed unsubscribe not answered');
    });
  });
}

function pick(message: DialogRequest, names: string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = message.get(name);
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}
