import { createResponse } from '@switchboard/sip';
import type { IncomingTransaction } from './sip-stack.ts';

/**
 * How long a NOTIFY may wait for the final response to its SUBSCRIBE: the notifier's own NOTIFY
 * transaction gives up after 64*T1 (32 s over UDP, RFC 3261 §17.1.2.2), so waiting longer helps nobody.
 */
export const EARLY_NOTIFY_WAIT_MS = 32_000;

/**
 * NOTIFYs that arrived before the 2xx to the SUBSCRIBE (or out-of-dialog REFER) that asked for them.
 * RFC 6665 §4.1.2.4: "the subscriber MUST be prepared to receive NOTIFY requests before the SUBSCRIBE
 * transaction has completed": a proxy that forwards in several processes (Kamailio's children) or a
 * lost 2xx lets the notifier's first NOTIFY overtake its 2xx. Such a NOTIFY names a dialog we do not
 * have yet; it waits here, keyed by the Call-ID and our From tag, until the request's final response:
 * after a 2xx has made the dialog (and the app has heard the 2xx) it is taken as any request in it,
 * after a failure it gets 481 as before. Retransmissions of a waiting NOTIFY are absorbed by its
 * server transaction meanwhile.
 */
export class EarlyNotifies {
  /** Requests awaiting their final response, with the NOTIFYs that came before it. */
  private readonly waiting = new Map<string, { held: IncomingTransaction[]; timer: NodeJS.Timeout }>();

  constructor(private readonly waitMs = EARLY_NOTIFY_WAIT_MS) {}

  /** An out-of-dialog SUBSCRIBE or REFER went out with this Call-ID and From tag. */
  subscribing(callId: string, fromTag: string): void {
    const key = keyOf(callId, fromTag);
    if (this.waiting.has(key)) return;
    const timer = setTimeout(() => this.release(key, refuse), this.waitMs);
    timer.unref();
    this.waiting.set(key, { held: [], timer });
  }

  /**
   * Keeps a NOTIFY whose To tag is the From tag of a request still awaiting its final response; false
   * when it is no such NOTIFY (the caller answers it as a request for an unknown dialog).
   */
  hold(txn: IncomingTransaction): boolean {
    const request = txn.request;
    if (request.method !== 'NOTIFY' || request.toTag === undefined) return false;
    const entry = this.waiting.get(keyOf(request.callId, request.toTag));
    entry?.held.push(txn);
    return entry !== undefined;
  }

  /**
   * The request got its final response: the NOTIFYs held for it go to `take`, in the order they came,
   * once the caller has passed the response on.
   */
  settle(callId: string, fromTag: string, take: (txn: IncomingTransaction) => void): void {
    this.release(keyOf(callId, fromTag), take);
  }

  /** How many requests await their final response (tests, shutdown). */
  get size(): number {
    return this.waiting.size;
  }

  /** Engine shutdown: held NOTIFYs get 481, no timer is left. */
  close(): void {
    for (const key of [...this.waiting.keys()]) this.release(key, refuse);
  }

  private release(key: string, take: (txn: IncomingTransaction) => void): void {
    const entry = this.waiting.get(key);
    if (entry === undefined) return;
    this.waiting.delete(key);
    clearTimeout(entry.timer);
    for (const txn of entry.held) take(txn);
  }
}

/** A NOTIFY whose subscription was never made: RFC 6665 §4.1.3 (no such subscription). */
function refuse(txn: IncomingTransaction): void {
  void txn.respond(createResponse(txn.request, 481)).catch(() => {});
}

// A Call-ID has no spaces (RFC 3261 §25.1 `word`): a space keeps the two parts apart.
function keyOf(callId: string, fromTag: string): string {
  return `${callId} ${fromTag}`;
}
