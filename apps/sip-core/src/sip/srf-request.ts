/**
 * Requests sip-core sends outside any dialog (REGISTER to a carrier or an upstream PBX, OPTIONS to a
 * gateway or a device, MESSAGE to a device), through drachtio-srf's `srf.request`.
 */

/** A response as drachtio-srf hands it to a sent request's `response` listener. */
export interface SrfResponse {
  status: number;
  reason?: string;
  get(name: string): string | undefined;
}

/** A request drachtio-srf sent, which emits its responses. */
export interface SentRequest {
  on(event: 'response', listener: (res: SrfResponse) => void): void;
}

export interface OutOfDialogRequest {
  method: string;
  /** Where to send it, if not to the Request-URI's host (an outbound proxy, a device's flow). */
  proxy?: string | undefined;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * srf.request as drachtio-srf implements it (its bundled typings declare another signature), in its
 * callback form: the callback runs as soon as the engine reports the request sent, before any response
 * is read. The promise form resolves a tick later, so a response that came back in the same read from
 * the engine would be emitted before anyone listens.
 */
export interface SrfRequester {
  request(
    uri: string,
    options: OutOfDialogRequest,
    callback: (error: unknown, sent: SentRequest) => void,
  ): unknown;
}

/**
 * How long a non-INVITE transaction can live: Timer F (RFC 3261 §17.1.2.2, 64·T1), plus a margin for
 * the engine's own 408 to arrive.
 */
const TRANSACTION_END_MS = 34_000;

/** A request on its way: its final response as the caller waits for it, and the transaction's end. */
export interface SentFinal {
  /** The final response; rejects when the engine cannot send it or nothing final arrives in time. */
  answer: Promise<SrfResponse>;
  /**
   * Resolves once the transaction is over: a final response came (the engine's 408 at Timer F
   * included), sending failed, or Timer F has passed. Never rejects.
   */
  ended: Promise<void>;
}

/**
 * Sends a request. The caller may stop waiting for the answer after `timeoutMs` (`timeoutText` names
 * whom) while the engine's transaction keeps retransmitting until Timer F: `ended` says when it is over.
 */
export function sendFinal(
  srf: SrfRequester,
  uri: string,
  request: OutOfDialogRequest,
  timeoutMs: number,
  timeoutText: string,
): SentFinal {
  let end = (): void => undefined;
  const ended = new Promise<void>((resolve) => {
    const limit = setTimeout(resolve, TRANSACTION_END_MS);
    limit.unref();
    end = () => {
      clearTimeout(limit);
      resolve();
    };
  });
  const answer = new Promise<SrfResponse>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(timeoutText)), timeoutMs);
    guard.unref();
    srf.request(uri, request, (error, sent) => {
      if (error) {
        clearTimeout(guard);
        end();
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      sent.on('response', (res) => {
        if (res.status < 200) return;
        clearTimeout(guard);
        end();
        resolve(res);
      });
    });
  });
  return { answer, ended };
}

/** Sends a request and resolves with its final response (provisional ones are skipped). */
export function requestFinal(
  srf: SrfRequester,
  uri: string,
  request: OutOfDialogRequest,
  timeoutMs: number,
  timeoutText: string,
): Promise<SrfResponse> {
  return sendFinal(srf, uri, request, timeoutMs, timeoutText).answer;
}
