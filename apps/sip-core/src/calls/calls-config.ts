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
  /**
   * Most calls this node handles at once, shared evenly among its sip-core workers (`SIP_MAX_CALLS`);
   * beyond it a new call gets 503 with Retry-After. 0: no limit.
   */
  maxConcurrent: number;
  /** Most new calls this node admits in any one second, shared the same way (`SIP_MAX_CALLS_PER_SECOND`). */
  maxPerSecond: number;
}

export const DEFAULT_CALLS: CallsConfig = {
  ringTimeout: 60,
  maxCallDuration: 0,
  forwardedCallerId: 'original',
  pushWaitTimeout: 10,
  maxConcurrent: 0,
  maxPerSecond: 0,
};
