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
 * Sends a request and resolves with its final response (provisional ones are skipped); rejects when the
 * engine cannot send it or nothing final arrives within `timeoutMs` (`timeoutText` names whom).
 */
export function requestFinal(
  srf: SrfRequester,
  uri: string,
  request: OutOfDialogRequest,
  timeoutMs: number,
  timeoutText: string,
): Promise<SrfResponse> {
  return new Promise<SrfResponse>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(timeoutText)), timeoutMs);
    guard.unref();
    srf.request(uri, request, (error, sent) => {
      if (error) {
        clearTimeout(guard);
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      sent.on('response', (res) => {
        if (res.status < 200) return;
        clearTimeout(guard);
        resolve(res);
      });
    });
  });
}
