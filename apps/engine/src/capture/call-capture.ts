import { detached, LruMap } from '@switchboard/sip';
import {
  callIdOf,
  cseqMethodOf,
  ownBytes,
  type SipMessageEvent,
  type SipMessageObserver,
} from './observed-transport.ts';

/** One captured message of a call's ladder. */
export interface CapturedMessage {
  /** Capture order across all calls (milliseconds alone do not order two legs' messages). */
  seq: number;
  /** ISO 8601 capture time. */
  at: string;
  direction: 'in' | 'out';
  transport: string;
  /** `address:port` of the sender and the receiver. */
  source: string;
  destination: string;
  callId: string;
  /** The request line or status line. */
  startLine: string;
  /** The whole message as it crossed the wire. */
  message: string;
}

export interface CallCaptureLimits {
  /** How long a call's messages are kept after its last one (default one hour). */
  retentionMs: number;
  /** Most calls kept; the oldest is dropped first (default 5000). */
  maxCalls: number;
  /** Most messages kept per call; later ones are dropped (default 200: long enough for any ladder). */
  maxMessagesPerCall: number;
  /** Bytes of message text kept in all (default 32 MiB). */
  maxBytes: number;
}

export const DEFAULT_CAPTURE_LIMITS: CallCaptureLimits = {
  retentionMs: 60 * 60_000,
  maxCalls: 5000,
  maxMessagesPerCall: 200,
  maxBytes: 32 * 1024 * 1024,
};

/**
 * Out-of-dialog housekeeping is not part of a call's ladder (and registrations would crowd calls out of
 * the ring).
 */
const NOT_CALLS = new Set(['REGISTER', 'OPTIONS', 'PUBLISH']);

/** Longest gap between two looks for idle calls while messages arrive (and 1 % of the retention at most). */
const EXPIRY_CHECK_MS = 1000;

/** Where and when a message was captured: the observer's event without the message. */
type CaptureWhere = Omit<SipMessageEvent, 'message' | 'wire'>;

/**
 * A message as the observer saw it, made readable only when a ladder is asked for: most captured calls
 * are never looked at, and printing each message as text (with its addresses and time) on the SIP path
 * cost more than keeping its bytes. The bytes are the message as it crossed the wire, taken then.
 */
class WireCapture {
  constructor(
    readonly seq: number,
    private readonly event: CaptureWhere,
    readonly callId: string,
    readonly wire: Buffer,
  ) {}

  toCaptured(): CapturedMessage {
    const { event } = this;
    const text = this.wire.toString('utf8');
    const local = `${event.localAddress}:${event.localPort}`;
    const remote = `${event.remoteAddress}:${event.remotePort}`;
    return {
      seq: this.seq,
      at: new Date(event.at).toISOString(),
      direction: event.direction,
      transport: event.transport,
      source: event.direction === 'in' ? remote : local,
      destination: event.direction === 'in' ? local : remote,
      callId: this.callId,
      startLine: text.slice(0, Math.max(0, text.indexOf('\r\n'))),
      message: text,
    };
  }
}

type Captured = CapturedMessage | WireCapture;

interface CallEntry {
  messages: Captured[];
  bytes: number;
  lastAt: number;
}

/**
 * The engine's own capture of the last hour's calls, per Call-ID, for the ladder (message sequence) view.
 * Memory is bounded by call count, per-call message count and total bytes; calls idle longer than the
 * retention are forgotten, and when a bound is reached the call idle longest goes first (each message
 * makes its call the most recent in an LruMap).
 */
export class CallCapture {
  private readonly calls = new LruMap<string, CallEntry>();
  private bytes = 0;
  private seq = 0;
  /** When `add` next looks for idle calls. */
  private nextExpiry = 0;
  private readonly limits: CallCaptureLimits;
  private readonly now: () => number;

  constructor(limits: Partial<CallCaptureLimits> = {}, now: () => number = Date.now) {
    this.limits = { ...DEFAULT_CAPTURE_LIMITS, ...limits };
    this.now = now;
  }

  readonly observer: SipMessageObserver = (event) => {
    const method = cseqMethodOf(event.message);
    const callId = callIdOf(event.message);
    if (method === undefined || callId === undefined || NOT_CALLS.has(method)) return;
    // Fields copied by name: the message itself is not kept, and an object rest (`...where`) takes V8's
    // slow path on every message.
    const where: CaptureWhere = {
      direction: event.direction,
      transport: event.transport,
      localAddress: event.localAddress,
      localPort: event.localPort,
      remoteAddress: event.remoteAddress,
      remotePort: event.remotePort,
      at: event.at,
    };
    // The Call-ID is cut from the message's text: kept as read, it would keep that text alive too. A
    // sent message's printed bytes are a slice of the shared buffer pool: kept, they are copied out.
    const wire = event.wire ?? ownBytes(event.message.toBuffer());
    this.add(new WireCapture(++this.seq, where, detached(callId), wire));
  };

  add(captured: Captured): void {
    const now = this.now();
    // Idle calls are looked for now and then, not on every message; every read below looks first.
    if (now >= this.nextExpiry) this.expire(now);
    const entry = this.calls.get(captured.callId) ?? { messages: [], bytes: 0, lastAt: 0 };
    entry.lastAt = now;
    this.calls.set(captured.callId, entry);
    if (entry.messages.length >= this.limits.maxMessagesPerCall) return;
    const size = captured instanceof WireCapture ? captured.wire.length : captured.message.length;
    entry.messages.push(captured);
    entry.bytes += size;
    this.bytes += size;
    while (this.calls.size > this.limits.maxCalls || this.bytes > this.limits.maxBytes) {
      const idlest = this.calls.deleteOldest();
      if (idlest === undefined) break;
      this.bytes -= idlest[1].bytes;
    }
  }

  /** The captured messages of the given Call-IDs (a B2BUA call has one per leg), in capture order. */
  ladder(callIds: readonly string[]): CapturedMessage[] {
    this.expire();
    const messages = callIds.flatMap((id) => this.calls.get(id)?.messages ?? []);
    return messages.sort((a, b) => a.seq - b.seq).map((m) => (m instanceof WireCapture ? m.toCaptured() : m));
  }

  get size(): { calls: number; bytes: number } {
    this.expire();
    return { calls: this.calls.size, bytes: this.bytes };
  }

  /** Forgets calls idle past the retention; stops at the first call that is still fresh. */
  private expire(now = this.now()): void {
    this.nextExpiry = now + Math.min(EXPIRY_CHECK_MS, this.limits.retentionMs / 100);
    const cutoff = now - this.limits.retentionMs;
    for (let idlest = this.calls.oldest(); idlest !== undefined && idlest[1].lastAt < cutoff; ) {
      this.calls.deleteOldest();
      this.bytes -= idlest[1].bytes;
      idlest = this.calls.oldest();
    }
  }
}
