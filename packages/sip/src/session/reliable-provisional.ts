/**
 * RFC 3262 (reliable provisional responses) seen from the UAS: one class per reliable 1xx. The UAS numbers each
 * reliable provisional with RSeq, sends it again with T1 doubling until a PRACK names it in RAck, and gives up
 * after 64*T1 (§3). The caller owns the wire: `retransmit` sends the same response again, `timedOut` rejects
 * the INVITE (a 5xx, §3).
 */

export type ReliableProvisionalState = 'retransmitting' | 'acknowledged' | 'timed-out' | 'stopped';

export interface ReliableProvisionalEvents {
  /** Send the provisional again (same RSeq, same everything, §3). */
  retransmit(): void;
  /** No PRACK within 64*T1: the UAS rejects the INVITE (§3 suggests 5xx). */
  timedOut(): void;
}

export class ReliableProvisional {
  state: ReliableProvisionalState = 'retransmitting';
  private timer: NodeJS.Timeout | undefined;
  private interval: number;
  private elapsed = 0;

  constructor(
    readonly rseq: number,
    private readonly t1Ms: number,
    private readonly events: ReliableProvisionalEvents,
  ) {
    this.interval = t1Ms;
    this.arm();
  }

  /**
   * A PRACK arrived (§7.2 of the UAS): it acknowledges this provisional when its RAck names our RSeq.
   * retransmitting → acknowledged; true when it matched.
   */
  acknowledge(rack: { rseq: number }): boolean {
    if (this.state !== 'retransmitting' || rack.rseq !== this.rseq) return false;
    this.state = 'acknowledged';
    this.clear();
    return true;
  }

  /** The INVITE got its final response, or the call went away: retransmitting → stopped. */
  stop(): void {
    if (this.state !== 'retransmitting') return;
    this.state = 'stopped';
    this.clear();
  }

  private arm(): void {
    this.timer = setTimeout(() => this.tick(), this.interval);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.state !== 'retransmitting') return;
    this.elapsed += this.interval;
    if (this.elapsed >= 64 * this.t1Ms) {
      // §3: no PRACK after 64*T1 → retransmitting → timed-out; the UAS rejects the original request.
      this.state = 'timed-out';
      this.events.timedOut();
      return;
    }
    // §3: retransmit with an interval that starts at T1 and doubles each time.
    this.events.retransmit();
    if (this.state !== 'retransmitting') return; // the caller stopped it while sending
    this.interval *= 2;
    this.arm();
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * The RSeq numbers of one UAS dialog (§3): the first is chosen at random between 1 and 2^31 - 1, each next
 * reliable provisional takes the next number.
 */
export class RSeqCounter {
  private last: number;

  constructor(random: () => number = Math.random) {
    // One below the first value used; the first is at least 1 and leaves room to count (§3: < 2^31).
    this.last = Math.floor(random() * 0x7fffffff);
  }

  next(): number {
    this.last += 1;
    return this.last;
  }

  get current(): number {
    return this.last;
  }
}
