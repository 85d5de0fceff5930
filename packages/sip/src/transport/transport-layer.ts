import { EventEmitter } from 'node:events';
import { generateTag } from '../messages/builders.ts';
import { StreamFramer as MessageFramer } from '../messages/framer.ts';
import { parseVia, type Via } from '../messages/headers.ts';
import type { SipRequest, SipResponse } from '../messages/message.ts';
import { type ParseLimits, tryParseMessage } from '../messages/parser.ts';
import { forbiddenControlAt } from '../syntax/charset.ts';
import type { SipParseError } from '../syntax/errors.ts';
import type { FramerFactory, StreamConnection } from './connection.ts';
import { SocketLayer, type SocketLayerOptions, type TransportStats } from './socket-layer.ts';
import { looksLikeStun, stunBindingRequestId, stunBindingSuccess } from './stun.ts';
import {
  defaultPort,
  isReliable,
  isStream,
  type ListenerInfo,
  type ListenerSpec,
  type MessageSource,
  normalizeAddress,
  parseTransportToken,
  type SendResult,
  type SipLogger,
  silentLogger,
  type TransportProtocol,
  type TransportTarget,
} from './types.ts';

export interface TransportLayerOptions extends Omit<SocketLayerOptions, 'framerFactory'> {
  /** Header-count and line-length limits for the parser (message size comes from `limits`). */
  parseLimits?: Omit<ParseLimits, 'maxMessageSize'>;
}

/**
 * `wire`: the bytes the message was parsed from (a datagram or a framed stream message), as it crossed the
 * wire; read-only and shared, for captures that want the exact bytes without printing the message again.
 */
export interface TransportLayerEvents {
  /** A request, with received/rport already added to its top Via (RFC 3261 §18.2.1, RFC 3581 §4). */
  request: [request: SipRequest, source: MessageSource, wire: Buffer];
  /** A response (RFC 3261 §18.1.2). */
  response: [response: SipResponse, source: MessageSource, wire: Buffer];
  connectionClosed: [connection: StreamConnection];
}

/** Adapts the message layer's stream framer to a connection's framer interface. */
const framerFactory: FramerFactory = (sink, maxMessageSize) => {
  const framer = new MessageFramer({ maxMessageSize });
  return {
    get buffered() {
      return framer.buffered;
    },
    push(chunk) {
      const r = framer.push(chunk);
      for (let i = 0; i < r.pings; i++) sink.ping();
      for (let i = 0; i < r.pongs; i++) sink.pong();
      for (const m of r.messages) sink.message(m);
      if (r.error) sink.error(r.error.message);
    },
  };
};

/** A datagram that only carries keep-alive bytes (CRLF, RFC 5626 §4.4.1 allows STUN on UDP instead). */
function isKeepAliveDatagram(data: Buffer): boolean {
  if (data.length === 0) return true;
  for (const b of data) if (b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09) return false;
  return true;
}

/**
 * The SIP transport layer (RFC 3261 §18): listeners on UDP/TCP/TLS/WS/WSS, parsing with limits,
 * received/rport on requests, response routing (§18.2.2), and connection reuse for everything sent.
 */
export class TransportLayer extends EventEmitter<TransportLayerEvents> {
  readonly sockets: SocketLayer;
  private readonly parseLimits: Omit<ParseLimits, 'maxMessageSize'>;
  private readonly log: SipLogger;

  constructor(options: TransportLayerOptions = {}) {
    super();
    this.sockets = new SocketLayer({ ...options, framerFactory });
    this.log = options.logger ?? silentLogger;
    this.parseLimits = options.parseLimits ?? {};
    this.sockets.on('data', (data, source) => this.receive(data, source));
    this.sockets.on('connectionClosed', (conn) => this.emit('connectionClosed', conn));
  }

  get stats(): TransportStats {
    return this.sockets.stats;
  }

  listen(spec: ListenerSpec): Promise<ListenerInfo> {
    return this.sockets.listen(spec);
  }

  getListeners(): ListenerInfo[] {
    return this.sockets.getListeners();
  }

  /** The listener (and so the Via sent-by) a message to that target will leave from. */
  selectListener(transport: TransportProtocol, targetAddress?: string): ListenerInfo | undefined {
    return this.sockets.selectListener(transport, targetAddress);
  }

  close(): Promise<void> {
    return this.sockets.close();
  }

  /** Sends a request (or an ACK/stateless message) to a target, reusing an open connection when one exists. */
  async send(message: SipRequest | SipResponse, target: TransportTarget): Promise<SendResult> {
    return this.sockets.sendRaw(target, message.ensureContentLength().toBuffer());
  }

  /**
   * Sends a response where RFC 3261 §18.2.2 (with RFC 3581 §4) says: over a reliable transport on the
   * connection the request came in on while it is open, else to received/rport, else to the Via sent-by.
   */
  async sendResponse(response: SipResponse, requestSource?: MessageSource): Promise<SendResult> {
    return this.send(response, responseTarget(response, requestSource));
  }

  /**
   * RFC 5626 §4.4.2 keep-alive on UDP: a STUN Binding request on the SIP port is answered with the
   * source address it came from; other STUN messages (indications, stray responses) are dropped.
   */
  private answerStun(data: Buffer, source: MessageSource): void {
    const id = stunBindingRequestId(data);
    const answer = id && stunBindingSuccess(id, source.remoteAddress, source.remotePort);
    if (!answer) {
      this.sockets.stats.unparseable++;
      return;
    }
    this.sockets
      .sendRaw(
        {
          transport: 'udp',
          address: source.remoteAddress,
          port: source.remotePort,
          listenerId: source.listenerId,
        },
        answer,
      )
      .catch((error: unknown) =>
        this.log.warn({
          event: 'stun_answer_failed',
          remoteAddress: source.remoteAddress,
          error: String(error),
        }),
      );
  }

  private receive(data: Buffer, source: MessageSource): void {
    if (source.transport === 'udp' && isKeepAliveDatagram(data)) return;
    if (source.transport === 'udp' && looksLikeStun(data)) {
      this.answerStun(data, source);
      return;
    }
    const parsed = tryParseMessage(data, {
      ...this.parseLimits,
      // WebSocket frames carry one message each, like datagrams (RFC 7118 §5.2 makes Content-Length optional).
      transport: isStream(source.transport) ? 'stream' : 'datagram',
      maxMessageSize:
        source.transport === 'udp'
          ? this.sockets.limits.maxDatagramSize
          : this.sockets.limits.maxStreamMessageSize,
    });
    if (!parsed.ok) {
      this.rejectUnparseable(data, parsed.error, source);
      return;
    }
    const message = parsed.message;
    try {
      if (message.isRequest) {
        const via = message.topVia!;
        // Rewritten only when received/rport were added: a Via that names its source stays as sent.
        if (stampVia(via, source)) message.replaceTopVia(via);
        this.aliasConnection(via, source);
        this.emit('request', message, source, data);
      } else {
        this.emit('response', message, source, data);
      }
    } catch (err) {
      // A header that fails only on typed access, or a bug in a handler, must not take the listener down.
      this.sockets.stats.handlerErrors++;
      this.log.error({ event: 'transport_handler_error', err: (err as Error).message, source });
    }
  }

  /** RFC 5923 §5: `alias` in the Via of a request received on a connection lets us reuse it towards sent-by. */
  private aliasConnection(via: Via, source: MessageSource): void {
    if (!source.connectionId || !via.params.has('alias')) return;
    const conn = this.sockets.connections.get(source.connectionId);
    if (conn) this.sockets.connections.alias(conn, via.host, via.port ?? defaultPort(source.transport));
  }

  /**
   * A message that does not parse is dropped and counted; when it is a request with the headers needed to
   * route a response (Via, From, To, Call-ID, CSeq), it is answered with the parser's status (400, 505...).
   */
  private rejectUnparseable(data: Buffer, error: SipParseError, source: MessageSource): void {
    const response = errorResponseText(data, error, source);
    if (!response) {
      this.sockets.stats.unparseable++;
      return;
    }
    this.sockets.stats.invalidRequests++;
    const target: TransportTarget = source.connectionId
      ? {
          transport: source.transport,
          address: source.remoteAddress,
          port: source.remotePort,
          connectionId: source.connectionId,
        }
      : {
          transport: source.transport,
          address: response.via.received ?? response.via.host,
          port:
            (typeof response.via.rport === 'number' ? response.via.rport : response.via.port) ??
            defaultPort(source.transport),
          listenerId: source.listenerId,
        };
    this.sockets.sendRaw(target, Buffer.from(response.text, 'latin1')).catch(() => {});
  }
}

/** §18.2.1 and RFC 3581 §4: record the real source in the top Via of a received request. */
export function stampVia(via: Via, source: MessageSource): boolean {
  const viaHost = normalizeAddress(via.host);
  if (via.rport !== undefined) {
    // RFC 3581 §4: with rport present, received is added even when it equals sent-by.
    via.received = source.remoteAddress;
    via.rport = source.remotePort;
    return true;
  }
  if (viaHost !== source.remoteAddress) {
    via.received = source.remoteAddress;
    return true;
  }
  return false;
}

/** Where a response goes, RFC 3261 §18.2.2 with RFC 3581 §4. */
export function responseTarget(response: SipResponse, requestSource?: MessageSource): TransportTarget {
  const via = response.topVia;
  if (!via) throw new Error('response has no Via');
  const transport = parseTransportToken(via.transport) ?? requestSource?.transport;
  if (!transport) throw new Error(`unsupported Via transport ${via.transport}`);
  const rport = typeof via.rport === 'number' ? via.rport : undefined;
  const port = rport ?? via.port ?? defaultPort(transport);
  const listenerId = requestSource?.listenerId;
  if (isReliable(transport)) {
    // §18.2.2: reliable -> the connection the request arrived on; if it is gone, a new one to received/sent-by.
    return {
      transport,
      address: via.received ?? via.host,
      port,
      connectionId: requestSource?.connectionId,
      listenerId,
    };
  }
  if (via.maddr)
    return { transport, address: via.maddr, port: via.port ?? defaultPort(transport), listenerId };
  // §18.2.2 / RFC 3581: received (and rport) when present, else sent-by.
  return { transport, address: via.received ?? via.host, port, listenerId };
}

const ROUTING_HEADERS: Record<string, string> = {
  via: 'via',
  v: 'via',
  from: 'from',
  f: 'from',
  to: 'to',
  t: 'to',
  'call-id': 'call-id',
  i: 'call-id',
  cseq: 'cseq',
};

/**
 * Builds the error response to a request that failed to parse, from its raw header lines, when the
 * request still has a usable Via, From, To, Call-ID and CSeq (§8.2.6.1 needs them all).
 */
function errorResponseText(
  data: Buffer,
  error: SipParseError,
  source: MessageSource,
): { text: string; via: Via } | undefined {
  const head = data.toString('latin1', 0, Math.min(data.length, 16_384));
  const end = head.indexOf('\r\n\r\n');
  const lines = (end >= 0 ? head.slice(0, end) : head).split('\r\n');
  const startLine = lines[0] ?? '';
  // Responses are never answered (§18.1.2); a request line is "METHOD SP URI SP SIP/2.0". Nor is an ACK:
  // no response to an ACK is ever sent (§17.1.1.3, §17.2.1), a malformed one is simply dropped.
  if (startLine.startsWith('SIP/') || !/^[A-Za-z!%*_+`'~.-]+ \S+ SIP\/\d+\.\d+$/.test(startLine))
    return undefined;
  if (startLine.startsWith('ACK ')) return undefined;
  const found = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line.startsWith(' ') || line.startsWith('\t')) continue;
    const key = ROUTING_HEADERS[line.slice(0, colon).trim().toLowerCase()];
    if (!key) continue;
    found.set(key, [...(found.get(key) ?? []), line.slice(colon + 1).trim()]);
  }
  for (const key of ['via', 'from', 'to', 'call-id', 'cseq']) if (!found.get(key)?.length) return undefined;
  // The answer echoes these values: one carrying a control character (a NUL...) cannot be echoed safely.
  for (const values of found.values()) if (values.some((v) => forbiddenControlAt(v) >= 0)) return undefined;
  if (found.get('from')!.length > 1 || found.get('to')!.length > 1 || found.get('call-id')!.length > 1)
    return undefined;
  let vias: Via[];
  try {
    vias = found.get('via')!.flatMap((v) => parseVia(v));
  } catch {
    return undefined;
  }
  const top = vias[0];
  if (!top) return undefined;
  stampVia(top, source);
  let to = found.get('to')![0]!;
  if (!/;\s*tag\s*=/i.test(to)) to += `;tag=${generateTag()}`;
  const status = Math.max(error.status, 400);
  const reason = error.reasonPhrase.replace(/[^\x20-\x7e]/g, ' ');
  const text =
    `SIP/2.0 ${status} ${reason}\r\n` +
    vias.map((v) => `Via: ${v.toString()}\r\n`).join('') +
    `From: ${found.get('from')![0]}\r\nTo: ${to}\r\nCall-ID: ${found.get('call-id')![0]}\r\n` +
    `CSeq: ${found.get('cseq')![0]}\r\nContent-Length: 0\r\n\r\n`;
  return { text, via: top };
}
