import {
  type MessageSource,
  normalizeAddress,
  type SendResult,
  type SipRequest,
  type SipResponse,
  TransportLayer,
  type TransportProtocol,
  type TransportTarget,
} from '@switchboard/sip';

/** One SIP message as it crossed the wire, with both ends: what SIP_TRACE, metrics and HEP capture see. */
export interface SipMessageEvent {
  direction: 'in' | 'out';
  message: SipRequest | SipResponse;
  transport: TransportProtocol;
  /** Addresses without IPv6 brackets or the IPv4-mapped prefix. */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Capture time, milliseconds since the epoch. */
  at: number;
  /**
   * A received message's bytes as they came in (before received/rport were added), kept apart from any
   * larger buffer they were read in; undefined for a sent message, which `message.toBuffer()` prints as
   * it was sent.
   */
  wire?: Buffer;
}

export type SipMessageObserver = (event: SipMessageEvent) => void;

/**
 * The transport layer with observers on every message received (after parsing and received/rport stamping)
 * and every message sent (once the socket took it). Observers run synchronously and must be cheap; one
 * that throws is not allowed to break SIP processing.
 */
export class ObservedTransportLayer extends TransportLayer {
  private readonly observers: SipMessageObserver[] = [];
  private readonly onObserverError: (err: unknown) => void;

  constructor(
    options: ConstructorParameters<typeof TransportLayer>[0],
    onObserverError: (err: unknown) => void = () => {},
  ) {
    super(options);
    this.onObserverError = onObserverError;
    this.on('request', (m, source, wire) => this.received(m, source, wire));
    this.on('response', (m, source, wire) => this.received(m, source, wire));
  }

  observe(observer: SipMessageObserver): void {
    this.observers.push(observer);
  }

  override async send(message: SipRequest | SipResponse, target: TransportTarget): Promise<SendResult> {
    const result = await super.send(message, target);
    if (this.observers.length > 0) {
      this.notify({
        direction: 'out',
        message,
        transport: result.transport,
        localAddress: normalizeAddress(result.localAddress),
        localPort: result.localPort,
        remoteAddress: normalizeAddress(result.address),
        remotePort: result.port,
        at: Date.now(),
      });
    }
    return result;
  }

  private received(message: SipRequest | SipResponse, source: MessageSource, wire: Buffer): void {
    if (this.observers.length === 0) return;
    this.notify({
      wire: ownBytes(wire),
      direction: 'in',
      message,
      transport: source.transport,
      localAddress: normalizeAddress(source.localAddress),
      localPort: source.localPort,
      remoteAddress: normalizeAddress(source.remoteAddress),
      remotePort: source.remotePort,
      at: Date.now(),
    });
  }

  private notify(event: SipMessageEvent): void {
    for (const observer of this.observers) {
      try {
        observer(event);
      } catch (err) {
        this.onObserverError(err);
      }
    }
  }
}

/**
 * Bytes that hold no other memory alive: a framed stream message is a view into the chunk it arrived
 * in, and a printed message a slice of Node's shared buffer pool, whose whole 8 KB slab stays alive
 * with it. A capture that keeps bytes for an hour takes them through here, so that its byte bound is
 * what it holds.
 */
export function ownBytes(view: Buffer): Buffer {
  if (view.byteLength === view.buffer.byteLength) return view;
  const copy = Buffer.allocUnsafeSlow(view.byteLength);
  view.copy(copy);
  return copy;
}

/** The CSeq method of a message, or undefined when its CSeq does not parse. */
export function cseqMethodOf(message: SipRequest | SipResponse): string | undefined {
  try {
    return message.cseq.method;
  } catch {
    return undefined;
  }
}

export function callIdOf(message: SipRequest | SipResponse): string | undefined {
  try {
    return message.callId;
  } catch {
    return undefined;
  }
}
