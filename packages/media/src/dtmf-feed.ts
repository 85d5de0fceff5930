import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { MediaError } from './errors.ts';

/** One key the relay saw in a call's RFC 4733 telephone-events (rtpengine's `dtmf-log-dest` feed). */
export interface DtmfEvent {
  /** The relay's call-id (the A leg's Call-ID). */
  callId: string;
  /** Tag of the leg that sent the key. */
  sourceTag: string;
  /** `0`-`9`, `*`, `#`, `A`-`D`. */
  code: string;
  durationMs: number;
}

/** RFC 4733 §3.2 (table 3): events 0-15 are the DTMF keys. */
const KEYS = '0123456789*#ABCD';

/**
 * One datagram of rtpengine's DTMF feed (`--dtmf-log-dest`), as rtpengine 10.5 sends it when an event
 * ends: `{"callid":"..","source_tag":"..","tags":[..],"type":"DTMF","event":1,"duration":200,
 * "volume":10,...}` (duration in ms, measured). Anything else (another type, an event beyond the 16 keys,
 * a datagram that is not JSON) is not a key.
 */
export function parseDtmfEvent(datagram: Buffer | string): DtmfEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(typeof datagram === 'string' ? datagram : datagram.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const { callid, source_tag: sourceTag, event, duration, type } = record;
  if (type !== undefined && type !== 'DTMF') return undefined;
  if (typeof callid !== 'string' || typeof sourceTag !== 'string') return undefined;
  if (typeof event !== 'number' || !Number.isInteger(event) || event < 0 || event >= KEYS.length)
    return undefined;
  const durationMs = typeof duration === 'number' && duration > 0 ? Math.round(duration) : 0;
  return { callId: callid, sourceTag, code: KEYS.charAt(event), durationMs };
}

export interface DtmfFeedOptions {
  /** Where rtpengine's `--dtmf-log-dest` points: `host:port` this process binds. */
  listen: { host: string; port: number };
  /**
   * The feed ports of the node's other sip-core workers on the same host: an event for a call this
   * process does not hold is sent on to each of them (rtpengine has one destination per instance and
   * its event names no worker). Keys are rare, so the fan-out is cheap.
   */
  relayTo?: number[];
  logger: Logger;
}

export type DtmfHandler = (event: DtmfEvent) => void;

/**
 * The receiving end of rtpengine's DTMF feed: calls subscribe by the relay's call-id and get the keys
 * of their call. Events of unknown calls go on to the sibling workers (`relayTo`); a relayed event is
 * marked so that it is never relayed twice.
 */
export class DtmfFeed {
  /** Per call-id: several features may listen to one call (INFO interworking, on-demand recording). */
  private readonly handlers = new Map<string, Set<DtmfHandler>>();
  private readonly socket: Socket;
  private readonly relayTo: number[];
  private readonly logger: Logger;
  private closed = false;

  private constructor(socket: Socket, options: DtmfFeedOptions) {
    this.socket = socket;
    this.relayTo = options.relayTo ?? [];
    this.logger = options.logger.child({ component: 'dtmf-feed' });
    socket.on('message', (message) => this.receive(message));
    socket.on('error', (err) => this.logger.warn({ err }, 'DTMF feed socket error'));
  }

  /** Binds the feed's socket; fails when the port is taken. */
  static async start(options: DtmfFeedOptions): Promise<DtmfFeed> {
    const socket = createSocket(options.listen.host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) =>
        reject(new MediaError('invalid-config', `DTMF feed cannot listen: ${err.message}`)),
      );
      socket.bind(options.listen.port, options.listen.host, () => resolve());
    });
    socket.removeAllListeners('error');
    return new DtmfFeed(socket, options);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** The keys of the call `callId` go to `handler` until the returned function is called. */
  subscribe(callId: string, handler: DtmfHandler): () => void {
    const handlers = this.handlers.get(callId) ?? new Set<DtmfHandler>();
    handlers.add(handler);
    this.handlers.set(callId, handlers);
    return () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.handlers.get(callId) === handlers) this.handlers.delete(callId);
    };
  }

  private receive(message: Buffer): void {
    const event = parseDtmfEvent(message);
    if (!event) return;
    const handlers = this.handlers.get(event.callId);
    if (handlers) {
      for (const handler of handlers) {
        try {
          handler(event);
        } catch (err) {
          this.logger.warn({ err, callId: event.callId }, 'DTMF handler failed');
        }
      }
      return;
    }
    // Relayed once: the siblings see `relayed` and keep the event to themselves.
    const record = JSON.parse(message.toString('utf8')) as Record<string, unknown>;
    if (record.relayed === true || this.relayTo.length === 0 || this.closed) return;
    const relayed = Buffer.from(JSON.stringify({ ...record, relayed: true }));
    const host = this.socket.address().address;
    for (const port of this.relayTo) this.socket.send(relayed, port, host);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

/**
 * `host:port` of a DTMF feed (RTPENGINE_DTMF_LISTEN), and the ports of a node's workers: worker `n` of
 * `count` listens on `port + n - 1`; worker 1 (rtpengine's destination) relays to the others.
 */
export function dtmfFeedPorts(
  port: number,
  worker: number,
  count: number,
): { listen: number; relayTo: number[] } {
  const listen = port + Math.max(0, worker - 1);
  // rtpengine sends to the first; only it passes events on.
  if (worker > 1) return { listen, relayTo: [] };
  return { listen, relayTo: Array.from({ length: Math.max(0, count - 1) }, (_, i) => port + 1 + i) };
}
