import type { SipResponse } from '@switchboard/sip';

/**
 * An engine extension of the drachtio protocol: an app puts this header on a final response to choose how
 * the engine sends it. The engine always removes it, so it never reaches the network. drachtio-server does
 * not know it and sends such a response normally (with the header): apps stay correct on either engine.
 *
 * - `stateless`: sent once, as a stateless UAS answers (RFC 3261 §8.2.7): no retransmission (Timer G), no
 *   server transaction left behind. A retransmitted request is handed to the app again and answered again,
 *   once; the ACK to a stateless non-2xx matches nothing and is dropped. For challenges and refusals to
 *   unverified sources, whose address may be forged (reflection).
 * - `drop`: nothing is sent and the transaction ends; the app is told the response was sent. For requests
 *   from banned or flooding sources over UDP.
 */
export const REPLY_MODE_HEADER = 'X-Switchboard-Reply';

export type ReplyMode = 'stateful' | 'stateless' | 'drop';

/**
 * Removes the header from `response` and says what it asked for. Only final responses can skip the
 * transaction, and never a 2xx to INVITE, which must be retransmitted until its ACK (RFC 3261 §13.3.1.4).
 */
export function takeReplyMode(response: SipResponse, method: string): ReplyMode {
  const value = response.getHeader(REPLY_MODE_HEADER)?.trim().toLowerCase();
  if (value === undefined) return 'stateful';
  response.removeHeader(REPLY_MODE_HEADER);
  if (response.status < 200) return 'stateful';
  if (method === 'INVITE' && response.status < 300) return 'stateful';
  return value === 'stateless' || value === 'drop' ? value : 'stateful';
}
