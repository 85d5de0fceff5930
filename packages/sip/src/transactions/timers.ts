/**
 * RFC 3261 §17 / Table 4 timer values. T1, T2 and T4 are configurable; every other timer derives from them.
 */
export interface TimerSettings {
  /** RTT estimate (default 500 ms). */
  t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses (default 4 s). */
  t2: number;
  /** Maximum duration a message remains in the network (default 5 s). */
  t4: number;
  /** Timer D, wait time for response retransmits in the INVITE client transaction over UDP (>= 32 s). */
  timerD: number;
  /** INVITE server transaction: send 100 Trying after this many ms unless the TU responded (§17.2.1). */
  tryingDelay: number;
}

export const DEFAULT_TIMERS: TimerSettings = {
  t1: 500,
  t2: 4_000,
  t4: 5_000,
  timerD: 32_000,
  tryingDelay: 200,
};

/** Derived timer durations (RFC 3261 Table 4, RFC 6026 Table 1) for one transaction. */
export function timerDurations(t: TimerSettings, reliable: boolean) {
  return {
    /** INVITE request retransmit interval, initial (UDP only). */
    A: t.t1,
    /** INVITE transaction timeout. */
    B: 64 * t.t1,
    /** Wait time for response retransmits. */
    D: reliable ? 0 : t.timerD,
    /** Non-INVITE request retransmit interval, initial (UDP only). */
    E: t.t1,
    /** Non-INVITE transaction timeout. */
    F: 64 * t.t1,
    /** INVITE response retransmit interval, initial (UDP only). */
    G: t.t1,
    /** Wait time for ACK receipt. */
    H: 64 * t.t1,
    /** Wait time for ACK retransmits. */
    I: reliable ? 0 : t.t4,
    /** Wait time for non-INVITE request retransmits. */
    J: reliable ? 0 : 64 * t.t1,
    /** Wait time for non-INVITE response retransmits. */
    K: reliable ? 0 : t.t4,
    /** RFC 6026: wait time for accepted INVITE request retransmits (server). */
    L: 64 * t.t1,
    /** RFC 6026: wait time for retransmitted 2xx responses (client). */
    M: 64 * t.t1,
  };
}

export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying';
