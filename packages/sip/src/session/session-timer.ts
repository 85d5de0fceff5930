/**
 * RFC 4028 session timers, one class per dialog's timer. Both sides run the same machine with a different
 * role: the refresher sends a refresh at half the interval (§10), the other side only watches; either ends
 * the session when no refresh came in time (§10). The caller owns the wire: `refresh` sends the refresh
 * request, `expire` ends the dialog with BYE.
 */

export type SessionTimerState = 'idle' | 'running' | 'refreshing' | 'stopped';

export interface SessionTimerEvents {
  /** We are the refresher and half the interval has passed: send the refresh (re-INVITE or UPDATE, §10). */
  refresh(): void;
  /** The session was not refreshed in time (§10): send BYE. */
  expire(): void;
}

/** What the answer to our own refresh did to the timer (§7.2, §7.4, RFC 3261 §14.1). */
export type RefreshOutcome = 'restarted' | 'stopped' | 'retry-later' | 'retry-now' | 'expired';

export class SessionTimer {
  state: SessionTimerState = 'idle';
  /** The agreed interval in seconds while a timer runs. */
  interval: number | undefined;
  /** Whether this side refreshes (true) or waits for the peer's refreshes (false). */
  weRefresh = false;
  private expiryTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly events: SessionTimerEvents,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * (Re)starts the timer after a 2xx that carried Session-Expires (§10): idle|running|refreshing → running.
   * The refresher refreshes at half the interval and expires at its end; the other side expires at
   * interval - min(32, interval/3) seconds. An interval of 0 or less stops the timer.
   */
  start(intervalSeconds: number, weRefresh: boolean): void {
    this.clear();
    if (!(intervalSeconds > 0)) {
      this.stop();
      return;
    }
    this.state = 'running';
    this.interval = intervalSeconds;
    this.weRefresh = weRefresh;
    if (weRefresh) this.armRefresh(intervalSeconds * 500);
    const expirySeconds = weRefresh ? intervalSeconds : intervalSeconds - Math.min(32, intervalSeconds / 3);
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      // §10: no refresh before the end → running|refreshing → stopped, and the session ends.
      this.clear();
      this.state = 'stopped';
      this.interval = undefined;
      this.events.expire();
    }, expirySeconds * 1000);
    this.expiryTimer.unref();
  }

  /** The session ends, or a refresh without Session-Expires turned timers off (§9): → stopped. */
  stop(): void {
    this.clear();
    this.state = 'stopped';
    this.interval = undefined;
  }

  /**
   * The final answer to our refresh (§7.2, §7.4). 2xx: running again with the interval it carries (none
   * turns the timer off). 491 (glare, RFC 3261 §14.1): try again after 2.1-4 s. 422 naming a larger Min-SE:
   * retry at once with it. Anything else, a timeout included: the session is over (as drachtio-server ends it).
   */
  refreshAnswered(
    status: number,
    sessionExpires: { seconds: number; refresher?: string | undefined } | undefined,
    peerMinSE: number | undefined,
  ): RefreshOutcome {
    if (status < 300 && status >= 200) {
      if (!sessionExpires) {
        this.stop();
        return 'stopped';
      }
      // §7.2: refresher=uac (or absent) in the answer to our request means we refresh.
      this.start(sessionExpires.seconds, sessionExpires.refresher !== 'uas');
      return 'restarted';
    }
    if (status === 491) {
      this.state = 'refreshing';
      this.armRefresh(2100 + this.random() * 1900);
      return 'retry-later';
    }
    if (status === 422 && peerMinSE !== undefined && peerMinSE > (this.interval ?? 0)) {
      // §7.4: retry with the peer's Min-SE as the new interval.
      this.interval = peerMinSE;
      this.state = 'refreshing';
      return 'retry-now';
    }
    this.stop();
    return 'expired';
  }

  private armRefresh(ms: number): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      if (this.state === 'stopped') return;
      // §10: half the interval has passed → running → refreshing; the answer comes to refreshAnswered.
      this.state = 'refreshing';
      this.events.refresh();
    }, ms);
    this.refreshTimer.unref();
  }

  private clear(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.expiryTimer = undefined;
    this.refreshTimer = undefined;
  }
}
