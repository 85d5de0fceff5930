import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';

/**
 * Reason of the CANCEL sent to the other forks when one answered (RFC 3326 §2; RFC 3261 §16.7 step
 * 10 leaves the header to the element): phones then do not log the call as missed.
 */
export const COMPLETED_ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';

/** drachtio-srf's `cancel(opts, callback)`: its typings know the callback-only form. */
type CancelWithOptions = (opts: { headers?: Record<string, string> }, callback: () => void) => void;

function cancelWith(sent: Srf.SrfRequest, reason: string | undefined): void {
  const cancel = sent.cancel.bind(sent) as unknown as CancelWithOptions;
  cancel(reason ? { headers: { Reason: reason } } : {}, () => {});
}

/**
 * The B-leg INVITEs of a call still waiting for a final response, each under a key, so that a round
 * of ringing can cancel its own forks and the call all of them (RFC 3261 §9.1).
 */
export class PendingForks {
  private readonly pending = new Map<number, Srf.SrfRequest>();
  /** Forks still waiting for their device to wake (RFC 8599): cancelling one ends its wait. */
  private readonly waiting = new Map<number, () => void>();
  private nextKey = 0;

  constructor(private readonly log: Logger) {}

  /** A key for a fork about to be sent. */
  key(): number {
    return this.nextKey++;
  }

  /** The fork's INVITE went out; until `settled`, a cancel reaches it. */
  sent(key: number, invite: Srf.SrfRequest): void {
    this.pending.set(key, invite);
  }

  /** The fork waits for its device to register; `stop` ends the wait. */
  waits(key: number, stop: () => void): void {
    this.waiting.set(key, stop);
  }

  /** The fork got its final response (or its wait ended). */
  settled(key: number): void {
    this.pending.delete(key);
    this.waiting.delete(key);
  }

  /** Cancels the forks of one round that are still pending, with `reason` (RFC 3326) when given. */
  cancel(keys: number[], reason?: string): void {
    for (const key of keys) {
      const sent = this.pending.get(key);
      if (sent) cancelWith(sent, reason);
      this.waiting.get(key)?.();
      this.settled(key);
    }
  }

  /** Cancels every pending fork of the call. */
  cancelAll(): void {
    for (const stop of this.waiting.values()) stop();
    this.waiting.clear();
    for (const sent of this.pending.values()) {
      try {
        sent.cancel(() => {});
      } catch (err) {
        // drachtio-srf throws when it has no engine connection to send the CANCEL on. The call ends
        // here anyway; the callee's INVITE transaction times out on its own (RFC 3261 §17.1.1.2).
        this.log.warn({ err }, 'could not cancel a pending fork');
      }
    }
    this.pending.clear();
  }
}
