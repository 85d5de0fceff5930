import { parseNameAddr, SipParseError } from '@switchboard/sip';
import type Srf from 'drachtio-srf';

/**
 * What sip-core uses of drachtio-srf 5 beyond its bundled typings, in one place: the members exist
 * on its objects, the typings omit or misdeclare them.
 */

/** drachtio-srf's Request is an EventEmitter; its typings name only 'response' and 'cancel'. */
export interface UpdateEmitter {
  on(event: 'update', listener: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void): unknown;
  removeAllListeners(event: 'update'): unknown;
}

/** Dialog#request as drachtio-srf implements it: the callback hears every response to the request. */
export interface InDialogRequester {
  request(
    options: { method: string; body?: string; headers?: Record<string, string> },
    callback: (error: unknown, response: Srf.SrfResponse) => void,
  ): unknown;
}

/** Dialog#modify with extra headers (drachtio-srf passes `opts.headers` on; its typings name only `noAck`). */
export interface HeaderModifier {
  modify(sdp: string | undefined, opts: { headers: Record<string, string> }): Promise<string>;
}

/** srf.request with a dialog id (drachtio-srf passes `stackDialogId` through; its typings omit it). */
export interface EarlyRequester {
  request(
    uri: string,
    options: { method: string; stackDialogId: string; body?: string; headers?: Record<string, string> },
  ): Promise<{ on(event: 'response', listener: (response: Srf.SrfResponse) => void): void }>;
}

/** The state drachtio-srf's Dialog#modify keeps (its typings omit it). */
interface ModifyState {
  local: { sdp: string };
  _reinvitesInProgress?: { count: number; admitOne: Array<() => void> };
}

/** The SDP drachtio-srf holds as the dialog's local session description. */
export function localSdpOf(dialog: Srf.Dialog): string {
  return (dialog as unknown as ModifyState).local.sdp;
}

/**
 * Undoes what drachtio-srf 5's Dialog#modify leaves behind when the re-INVITE gets a final non-2xx: it
 * never releases its one-re-INVITE-at-a-time slot, so every later modify() of the dialog would wait for
 * ever, and it keeps the refused offer as the dialog's local SDP. The session is the one before the
 * refused offer (RFC 3261 §14.1), so the slot is released and the SDP put back.
 */
export function settleRefusedModify(dialog: Srf.Dialog, localSdp: string): void {
  const state = dialog as unknown as ModifyState;
  state.local.sdp = localSdp;
  const slot = state._reinvitesInProgress;
  if (!slot || slot.count <= 0) return;
  slot.count--;
  const next = slot.admitOne.shift();
  if (next) setImmediate(next);
}

/**
 * Ends a dialog (BYE) without waiting. drachtio-srf rejects when the engine connection is already gone
 * (ESOCKETDESTROYED); that dialog is over either way, and an unhandled rejection would end the process.
 */
export function endDialog(dialog: Srf.Dialog | undefined, headers?: Record<string, string>): void {
  // Without a callback destroy() returns a promise; its typings say void.
  const ending = (
    headers && Object.keys(headers).length > 0 ? dialog?.destroy({ headers }) : dialog?.destroy()
  ) as Promise<unknown> | undefined;
  ending?.catch(() => undefined);
}

/** drachtio-srf's Dialog#connected (false once a BYE was sent or received); its typings omit it. */
export function isConnected(dialog: Srf.Dialog): boolean {
  return (dialog as unknown as { connected: boolean }).connected;
}

/** The `tag` of a From or To header value; undefined when absent or the header does not parse. */
export function tagOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  try {
    return parseNameAddr(header).tag;
  } catch (error) {
    if (error instanceof SipParseError) return undefined;
    throw error;
  }
}

/** What a failed drachtio-srf request rejects with (a SipError carries the final response's status). */
export interface SipErrorLike {
  status?: number;
  reason?: string;
  /** The failure response itself (drachtio-srf's SipError carries it). */
  res?: { get(name: string): string | undefined };
}

/**
 * Sends an UPDATE with an offer in `dialog`, or before the answer in the engine's early dialog
 * `earlyDialogId` (drachtio-srf has no Dialog yet; the engine keeps the early dialog and sends a request
 * naming its id inside it). Resolves with the final response.
 */
export function sendUpdate(
  srf: Srf,
  dialog: Srf.Dialog | undefined,
  earlyDialogId: string | undefined,
  sdp: string,
  headers: Record<string, string> = {},
): Promise<Srf.SrfResponse> {
  const options = { method: 'UPDATE', body: sdp, headers: { ...headers, 'Content-Type': 'application/sdp' } };
  return new Promise<Srf.SrfResponse>((resolve, reject) => {
    const onResponse = (response: Srf.SrfResponse): void => {
      if (response.status >= 200) resolve(response);
    };
    if (dialog) {
      (dialog as unknown as InDialogRequester).request(options, (error, response) =>
        error ? reject(error) : onResponse(response),
      );
      return;
    }
    if (!earlyDialogId) return reject(new Error('no dialog to send the UPDATE in'));
    (srf as unknown as EarlyRequester)
      .request('sip:placeholder', { ...options, stackDialogId: earlyDialogId })
      .then((sent) => sent.on('response', onResponse), reject);
  });
}

/** A received request's headers as name/value pairs, names as the sender wrote them. */
export function headerEntriesOf(req: Srf.SrfRequest | undefined): Array<[string, string]> {
  const headers = (req as unknown as { headers?: Record<string, string> } | undefined)?.headers;
  return headers ? Object.entries(headers) : [];
}
