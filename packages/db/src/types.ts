/** Media statistics of one call leg as reported by the media relay at the end of a call. */
export interface CdrLegMediaStats {
  packetsSent?: number;
  packetsReceived?: number;
  bytesSent?: number;
  bytesReceived?: number;
  /** Packets lost, as counted by the receiver (RTCP or relay sequence gaps). */
  packetsLost?: number;
  /** Interarrival jitter in milliseconds (RFC 3550 section 6.4.1). */
  jitterMs?: number;
  /** Mean opinion score estimate, 1.0 to 5.0. */
  mos?: number;
  codec?: string;
}

/** Shape of `Cdr.mediaStats` (JSON): one entry per leg as seen by the relay. */
export interface CdrMediaStats {
  /** Towards the caller. */
  a?: CdrLegMediaStats;
  /** Towards the callee. */
  b?: CdrLegMediaStats;
}
