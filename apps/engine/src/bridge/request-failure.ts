import { createResponse, SipParseError, type SipResponse } from '@switchboard/sip';
import type { Logger } from 'pino';
import type { IncomingTransaction } from './sip-stack.ts';

/**
 * What the engine answers when its own handling of a request fails (RFC 3261 §8.2: every request gets a
 * final response): 400 when the request itself was at fault (a header the handling needed did not parse),
 * 500 otherwise. Either carries a Warning (§20.43, code 399: miscellaneous) saying what went wrong, so the
 * peer and a trace show why, and the request is never left to time out.
 */
export function failureResponse(txn: IncomingTransaction, err: unknown, host: string): SipResponse {
  const badInput = err instanceof SipParseError;
  const status = badInput ? 400 : 500;
  const text = badInput ? err.message : 'internal error while handling the request';
  return createResponse(txn.request, status, {
    ...(badInput ? {} : { reason: 'Server Internal Error' }),
    headers: [['Warning', `399 ${host} "${text.replace(/["\\\r\n]/g, ' ').slice(0, 200)}"`]],
  });
}

/**
 * Runs the handling of one incoming request; if it throws, the failure is logged once and the request
 * answered (unless it was answered already: then the transaction refuses a second final response and that is
 * ignored). `cleanup` forgets whatever state the failed handling had set up for the request.
 */
export function handleRequestSafely(
  txn: IncomingTransaction,
  what: string,
  log: Logger,
  host: string,
  handle: () => void,
  cleanup: () => void,
): void {
  try {
    handle();
  } catch (err) {
    let response: SipResponse | undefined;
    try {
      cleanup();
      response = failureResponse(txn, err, host);
    } catch {
      // the transport layer checked the headers a response copies; nothing more can be done here
    }
    log.error(
      {
        err,
        what,
        method: txn.request.method,
        callId: txn.request.getHeader('call-id'),
        status: response?.status,
      },
      'failed to handle SIP request: answered it',
    );
    if (response) txn.respond(response).catch(() => {});
  }
}
