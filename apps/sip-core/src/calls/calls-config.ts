export interface CallsConfig {
  /** Seconds a callee may ring before the call ends as not answered (480). */
  ringTimeout: number;
  /** Cap on one call's duration in seconds when the customer sets none; 0: unlimited. */
  maxCallDuration: number;
  /**
   * Caller ID of a call forwarded to the PSTN: `original`, the original caller's number when it is
   * known (E.164), else the forwarding subscriber's; `forwarder`, always the forwarding subscriber's.
   */
  forwardedCallerId: 'original' | 'forwarder';
  /**
   * Seconds a call waits for a pushed device to register (RFC 8599 §7) before that device counts as
   * not answering (`PUSH_WAIT_TIMEOUT`).
   */
  pushWaitTimeout: number;
}

export const DEFAULT_CALLS: CallsConfig = {
  ringTimeout: 60,
  maxCallDuration: 0,
  forwardedCallerId: 'original',
  pushWaitTimeout: 10,
};
