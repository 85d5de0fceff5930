import { detached } from '@switchboard/sip';
import { splitAppSip } from './app-sip.ts';
import { type AppMessage, responseMessage } from './protocol.ts';

/**
 * The positional tokens of the app commands the engine acts on, named once here so the layers above never
 * index `msg.args`: `authenticate|secret|tags`, `route|verb`, `sip|txnId|dialogId[|nextHop]` and
 * `proxy|txnId|remainInDialog|fullResponse|followRedirects|mode|provTimeout|finalTimeout|dest...`.
 */

export interface AuthenticateCommand {
  secret: string;
  tags: string[];
}

export function authenticateCommand(msg: AppMessage): AuthenticateCommand {
  const tags = (msg.args[1] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  return { secret: msg.args[0] ?? '', tags };
}

/** The authenticate reply: `OK|hostport,...|version|localHostport,...` (drachtio-srf reads all three). */
export function authenticateReply(
  msgId: string,
  hostports: string[],
  version: string,
  localHostports: string[],
): string {
  return responseMessage(msgId, 'OK', `${hostports.join(',')}|${version}|${localHostports.join(',')}`);
}

/** The verb of `route|verb` and `remove_route|verb`, lower case. */
export function routeVerb(msg: AppMessage): string {
  return (msg.args[0] ?? '').toLowerCase();
}

export interface SipCommand {
  /** The transaction a response or CANCEL belongs to ('' for a new request). */
  txnId: string;
  /** The dialog an in-dialog request belongs to ('' outside dialogs). */
  dialogId: string;
  /** The outbound proxy the app named for a new request. */
  nextHop: string | undefined;
}

export function sipCommand(msg: AppMessage): SipCommand {
  const [txnId = '', dialogId = '', nextHop] = msg.args;
  // The next hop is kept with the dialog for the life of the call; cut from the app's message, it would
  // keep that whole message's text alive with it.
  return { txnId, dialogId, nextHop: nextHop ? detached(nextHop) : undefined };
}

/** How a request is to be proxied, as an app's `proxy` command or a request handler's instruction says. */
export interface ProxyDirections {
  destinations: string[];
  recordRoute: boolean;
  simultaneous: boolean;
  followRedirects: boolean;
  /** ms without a provisional response before a branch is cancelled (0: none). */
  provisionalTimeoutMs: number;
  /** ms without a final response before a branch is cancelled (0: none). */
  finalTimeoutMs: number;
  /** Headers the app wants on the forwarded request (never the ones a proxy must not touch). */
  headers: Array<[string, string]>;
}

export interface ProxyCommand extends ProxyDirections {
  txnId: string;
}

export function proxyCommand(msg: AppMessage): ProxyCommand {
  const [txnId = '', remainInDialog, , followRedirects, mode, provTimeout, finalTimeout, ...destinations] =
    msg.args;
  let headers: Array<[string, string]> = [];
  try {
    if (msg.sip !== '') {
      headers = splitAppSip(msg.sip).headers.filter(
        ([name]) => !/^(via|content-length|l|call-id|i|cseq|from|f|to|t)$/i.test(name),
      );
    }
  } catch {
    headers = [];
  }
  return {
    txnId,
    destinations: destinations.filter((d) => d !== ''),
    recordRoute: remainInDialog === 'remainInDialog',
    simultaneous: mode === 'simultaneous',
    followRedirects: followRedirects === 'followRedirects',
    provisionalTimeoutMs: parseTimeout(provTimeout),
    finalTimeoutMs: parseTimeout(finalTimeout),
    headers,
  };
}

/** Parses the timeouts drachtio-srf passes through: `2s`, `500ms`, `3000` (ms), or '' for none. */
export function parseTimeout(value: string | undefined): number {
  if (!value) return 0;
  const m = /^(\d+)\s*(ms|s)?$/i.exec(value.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  return m[2]?.toLowerCase() === 's' ? n * 1000 : n;
}
