import { isIP } from 'node:net';

/** Transport protocols a SIP listener or connection can use. */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

export const TRANSPORT_PROTOCOLS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

/** Reliable (stream) transports: no retransmissions by the transaction layer, responses go back on the connection. */
export function isReliable(transport: TransportProtocol): boolean {
  return transport !== 'udp';
}

export function isSecure(transport: TransportProtocol): boolean {
  return transport === 'tls' || transport === 'wss';
}

export function isStream(transport: TransportProtocol): boolean {
  return transport === 'tcp' || transport === 'tls';
}

/** Default port per RFC 3261 §19.1.2 (5060/5061) and RFC 7118 §5.2 (WebSocket uses the HTTP ports). */
export function defaultPort(transport: TransportProtocol): number {
  switch (transport) {
    case 'udp':
    case 'tcp':
      return 5060;
    case 'tls':
      return 5061;
    case 'ws':
      return 80;
    case 'wss':
      return 443;
  }
}

/** The transport token written in a Via header (RFC 3261 §20.42, RFC 7118 §5.3). */
export function viaTransportToken(transport: TransportProtocol): string {
  return transport.toUpperCase();
}

/** Parses a Via transport token or a `transport=` URI parameter value; undefined when unknown. */
export function parseTransportToken(token: string): TransportProtocol | undefined {
  const lower = token.trim().toLowerCase();
  return (TRANSPORT_PROTOCOLS as readonly string[]).includes(lower)
    ? (lower as TransportProtocol)
    : undefined;
}

/** Where a received message came from: enough to answer it and to correlate it with a connection. */
export interface MessageSource {
  transport: TransportProtocol;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  /** Id of the listener that owns the local socket (for outbound stream connections: the listener matched to it). */
  listenerId: string;
  /** Id of the stream connection the message arrived on; absent for UDP. */
  connectionId?: string;
}

/** Where to send a message. With a `connectionId` the message goes on that connection while it is open. */
export interface TransportTarget {
  transport: TransportProtocol;
  address: string;
  port: number;
  connectionId?: string;
  /** UDP: send from this listener's socket (responses leave from where the request arrived). */
  listenerId?: string;
  /** TLS/WSS server name for SNI and certificate checks when the address is numeric. */
  serverName?: string;
}

/** Result of a successful send: which socket was used. */
export interface SendResult {
  transport: TransportProtocol;
  address: string;
  port: number;
  localAddress: string;
  localPort: number;
  listenerId: string;
  connectionId?: string;
}

export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA bundle used to verify peers (outbound connections and, with requestCert, clients). */
  ca?: string | Buffer | Array<string | Buffer>;
  requestCert?: boolean;
}

export interface ListenerSpec {
  transport: TransportProtocol;
  /** Local address to bind: an IPv4 or IPv6 literal ('0.0.0.0', '::', '127.0.0.1', '::1'). */
  host: string;
  /** Local port; 0 picks an ephemeral port. */
  port: number;
  /** Required for tls and wss. */
  tls?: TlsOptions;
  /** Host (name or address) to advertise in Via/Contact/Record-Route instead of the bound address. */
  advertisedHost?: string;
  advertisedPort?: number;
}

/** A bound listener as the transport layer reports it. */
export interface ListenerInfo {
  id: string;
  transport: TransportProtocol;
  /** Address actually bound. */
  host: string;
  /** Port actually bound (the real port when 0 was asked for). */
  port: number;
  /** Host and port to write in Via sent-by, Contact and Record-Route. */
  advertisedHost: string;
  advertisedPort: number;
  family: 4 | 6;
  /** UDP: the receive buffer the kernel granted (Linux reports twice the size asked, its bookkeeping included). */
  receiveBufferBytes?: number;
}

export interface TransportLimits {
  /** UDP datagrams larger than this are dropped. */
  maxDatagramSize: number;
  /**
   * Receive buffer asked for each UDP socket (SO_RCVBUF), in bytes; 0 keeps the system's default. The
   * kernel queues datagrams there while the process is busy: a burst larger than the buffer is lost.
   */
  udpReceiveBufferBytes: number;
  /** A stream message (headers + body) larger than this closes the connection. */
  maxStreamMessageSize: number;
  /** Concurrent stream connections allowed from (or to) one remote IP address. */
  maxConnectionsPerIp: number;
  /** Concurrent stream connections allowed in all (inbound ones beyond it are refused). */
  maxConnections: number;
  /**
   * A stream message (TCP/TLS bytes, a WebSocket frame) must be complete this long after its first byte
   * arrived, else the connection is closed; 0 disables the limit. Stops peers that trickle bytes.
   */
  messageTimeoutMs: number;
  /** Stream connections idle (nothing sent or received) longer than this are closed; 0 disables reaping. */
  idleTimeoutMs: number;
  /** How often the idle reaper runs. */
  reapIntervalMs: number;
  /** Outbound stream/WebSocket connection setup timeout. */
  connectTimeoutMs: number;
  /**
   * Send an RFC 5626 §4.4.1 CRLF CRLF ping on connections we opened after this much silence, so NATs and
   * the far end keep them; 0 disables client keep-alives.
   */
  keepAliveIntervalMs: number;
}

export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  maxDatagramSize: 65_507,
  udpReceiveBufferBytes: 0,
  maxStreamMessageSize: 65_535,
  maxConnectionsPerIp: 100,
  maxConnections: 10_000,
  messageTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  reapIntervalMs: 10_000,
  connectTimeoutMs: 10_000,
  keepAliveIntervalMs: 0,
};

/** Minimal structured logger (pino-compatible): the transport layer logs one event per call. */
export interface SipLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: SipLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Strips IPv6 brackets and the IPv4-mapped prefix so addresses compare equal however the OS reports them. */
export function normalizeAddress(address: string): string {
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  if (a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  return a.toLowerCase();
}

/** IP family of an address literal, or 0 for a host name. */
export function addressFamily(address: string): 0 | 4 | 6 {
  return isIP(normalizeAddress(address)) as 0 | 4 | 6;
}

/**
 * Parses a listener description as written in configuration: `udp:0.0.0.0:5060`, `tcp:[::1]:5060`,
 * `ws:127.0.0.1:5066` (transport:host:port). Throws on anything else.
 */
export function parseListenSpec(text: string): ListenerSpec {
  const match = /^(udp|tcp|tls|ws|wss):(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(text.trim());
  if (!match) throw new Error(`invalid listener "${text}": expected transport:host:port`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`invalid listener "${text}": port out of range`);
  const host = normalizeAddress(match[2]!);
  if (addressFamily(host) === 0) throw new Error(`invalid listener "${text}": host must be an IP address`);
  return { transport: match[1] as TransportProtocol, host, port };
}

/** Parses a comma-separated list of listener descriptions (the SIP_LISTEN format). */
export function parseListenList(text: string): ListenerSpec[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseListenSpec);
}
