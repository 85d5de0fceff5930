import type { IncomingRequest, SipResponse } from './request.ts';

/**
 * How sip-core asks the engine to send an answer without a transaction (docs/engine.md, "Reply mode"): a
 * header the engine removes before sending. drachtio-server does not know it and would put it on the wire,
 * so on that engine it is taken off again (`forEngine`, with `EngineTraits.replyMode`) and the answer goes out statefully: nothing here
 * depends on it for correctness, only for how little a forged source can draw.
 */
const REPLY_MODE_HEADER = 'X-Switchboard-Reply';

/** `res.send` options for the engine: unchanged when it honours reply mode, else without the header. */
export function forEngine<T extends { headers?: Record<string, string> }>(options: T, honoured: boolean): T {
  if (honoured || !options.headers || !(REPLY_MODE_HEADER in options.headers)) return options;
  const { [REPLY_MODE_HEADER]: _mode, ...headers } = options.headers;
  return { ...options, headers };
}

/**
 * A challenge or refusal to a request whose source is not verified: sent once, statelessly (RFC 3261
 * §8.2.7, like Kamailio's `sl_send_reply`), so a forged UDP source gets one packet and no retransmissions.
 */
export function replyStateless(
  res: SipResponse,
  status: number,
  reason: string,
  headers: Record<string, string> = {},
): void {
  res.send(status, reason, { headers: { ...headers, [REPLY_MODE_HEADER]: 'stateless' } });
}

/**
 * A refusal to a source we will not serve (banned, over its rate): over UDP nothing at all, since the
 * address may be forged and any answer feeds a reflection; over TCP, TLS and WebSocket (the handshake proved
 * the address) the answer goes once.
 */
export function refuseSilently(
  req: IncomingRequest,
  res: SipResponse,
  status: number,
  reason: string,
  headers: Record<string, string> = {},
): void {
  const mode = req.locals.source.transport === 'udp' ? 'drop' : 'stateless';
  res.send(status, reason, { headers: { ...headers, [REPLY_MODE_HEADER]: mode } });
}

/** How a test or a log tells what `res.send` was asked to do with an answer. */
export function replyModeOf(headers: Record<string, string> | undefined): 'stateful' | 'stateless' | 'drop' {
  const mode = headers?.[REPLY_MODE_HEADER];
  return mode === 'stateless' || mode === 'drop' ? mode : 'stateful';
}
