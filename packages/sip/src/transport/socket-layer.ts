import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { FramerFactory, StreamConnection } from './connection.ts';
import { ConnectionTable } from './connection-table.ts';
import {
  ADDRESS_LIMIT,
  GLOBAL_LIMIT,
  isWildcard,
  type Listener,
  type ListenerContext,
  SocketListener,
  UdpListener,
  WebSocketListener,
} from './listeners.ts';
import {
  DEFAULT_TRANSPORT_LIMITS,
  type ListenerInfo,
  type ListenerSpec,
  type MessageSource,
  normalizeAddress,
  type SendResult,
  type SipLogger,
  silentLogger,
  type TransportLimits,
  type TransportProtocol,
  type TransportTarget,
} from './types.ts';

export interface SocketLayerOptions {
  limits?: Partial<TransportLimits>;
  logger?: SipLogger;
  /** How outbound TLS/WSS connections verify servers. */
  tlsClient?: { ca?: string | Buffer | Array<string | Buffer>; rejectUnauthorized?: boolean };
  framerFactory: FramerFactory;
}

/** Counters exposed for monitoring and tests. */
export interface TransportStats {
  datagramsTooLarge: number;
  streamViolations: number;
  connectionsRefused: number;
  connectionsReaped: number;
  keepAlivePings: number;
  unparseable: number;
  invalidRequests: number;
  /** Messages whose processing threw (malformed header met late, or a failing handler). */
  handlerErrors: number;
}

export interface SocketLayerEvents {
  /** One SIP message's bytes with where it came from. */
  data: [data: Buffer, source: MessageSource];
  connectionOpened: [connection: StreamConnection];
  connectionClosed: [connection: StreamConnection];
}

/**
 * Listeners, the connection table, connection reuse, limits and idle reaping: everything below SIP parsing.
 * Works with raw message bytes; the TransportLayer adds SIP on top.
 */
export class SocketLayer extends EventEmitter<SocketLayerEvents> {
  readonly limits: TransportLimits;
  readonly connections = new ConnectionTable();
  readonly stats: TransportStats = {
    datagramsTooLarge: 0,
    streamViolations: 0,
    connectionsRefused: 0,
    connectionsReaped: 0,
    keepAlivePings: 0,
    unparseable: 0,
    invalidRequests: 0,
    handlerErrors: 0,
  };
  protected readonly log: SipLogger;
  private readonly listenersById = new Map<string, Listener>();
  /**
   * selectListener's answers, per transport and kind of target (see targetKind): the choice depends only on
   * those while the listeners stay the same, and it is asked for every message sent.
   */
  private readonly listenerChoices = new Map<TransportProtocol, Array<ListenerInfo | null | undefined>>();
  private readonly connecting = new Map<string, Promise<StreamConnection>>();
  private readonly listenerContext: ListenerContext;
  private readonly tlsClient: { ca?: string | Buffer | Array<string | Buffer>; rejectUnauthorized: boolean };
  private reaper?: NodeJS.Timeout;
  private readonly refusalLog: RefusalLog;

  constructor(options: SocketLayerOptions) {
    super();
    this.limits = { ...DEFAULT_TRANSPORT_LIMITS, ...options.limits };
    this.log = options.logger ?? silentLogger;
    this.refusalLog = new RefusalLog(this.log, this.limits);
    this.tlsClient = {
      ca: options.tlsClient?.ca,
      rejectUnauthorized: options.tlsClient?.rejectUnauthorized ?? true,
    };
    this.listenerContext = {
      limits: this.limits,
      framerFactory: options.framerFactory,
      admitConnection: (remote) => {
        if (this.connections.size >= this.limits.maxConnections) return GLOBAL_LIMIT;
        if (this.connections.countFor(remote) >= this.limits.maxConnectionsPerIp) return ADDRESS_LIMIT;
        return null;
      },
    };
  }

  /** Binds a listener; resolves with the bound address/port (port 0 becomes the real port). */
  async listen(spec: ListenerSpec): Promise<ListenerInfo> {
    const listener =
      spec.transport === 'udp'
        ? new UdpListener(spec, this.listenerContext)
        : spec.transport === 'tcp' || spec.transport === 'tls'
          ? new SocketListener(spec, this.listenerContext)
          : new WebSocketListener(spec, this.listenerContext);
    const info = await listener.start();
    this.listenersById.set(listener.id, listener);
    this.listenerChoices.clear();
    listener.on('datagram', (data, remoteAddress, remotePort) => {
      this.emit('data', data, {
        transport: 'udp',
        remoteAddress,
        remotePort,
        localAddress: info.host,
        localPort: info.port,
        listenerId: info.id,
      });
    });
    listener.on('connection', (conn) => this.adopt(conn));
    listener.on('refused', (reason, remoteAddress) => {
      if (reason === 'datagram too large') this.stats.datagramsTooLarge++;
      else this.stats.connectionsRefused++;
      this.refusalLog.note(reason, remoteAddress, info.id);
    });
    this.startReaper();
    this.log.info({ event: 'transport_listening', ...info });
    return info;
  }

  /**
   * A renewed certificate for every tls and wss listener (new handshakes use it, open connections keep
   * theirs). All pairs are checked before any is set: a bad pair throws and nothing changes.
   */
  replaceCertificates(cert: string | Buffer, key: string | Buffer): number {
    tls.createSecureContext({ cert, key });
    const secure = [...this.listenersById.values()].filter(
      (l) => l.spec.transport === 'tls' || l.spec.transport === 'wss',
    );
    for (const listener of secure) listener.replaceCertificate(cert, key);
    return secure.length;
  }

  getListeners(): ListenerInfo[] {
    return [...this.listenersById.values()].map((l) => l.info);
  }

  listener(id: string): ListenerInfo | undefined {
    return this.listenersById.get(id)?.info;
  }

  /**
   * The listener a message to this target leaves from: same transport and an address family that can reach
   * the target (a wildcard '::' listener serves both families).
   */
  selectListener(transport: TransportProtocol, targetAddress?: string): ListenerInfo | undefined {
    const target = targetAddress ? normalizeAddress(targetAddress) : '';
    const kind = targetKind(target);
    let choices = this.listenerChoices.get(transport);
    if (choices === undefined) {
      choices = [];
      this.listenerChoices.set(transport, choices);
    }
    let choice = choices[kind];
    if (choice === undefined) {
      choice = this.chooseListener(transport, kind) ?? null;
      choices[kind] = choice;
    }
    return choice ?? undefined;
  }

  private chooseListener(transport: TransportProtocol, kind: TargetKind): ListenerInfo | undefined {
    const candidates = [...this.listenersById.values()]
      .map((l) => l.info)
      .filter((l) => l.transport === transport);
    if (kind === TargetKind.Name) return candidates.find((l) => l.family === 4) ?? candidates[0];
    const family = kind === TargetKind.V4Loopback || kind === TargetKind.V4 ? 4 : 6;
    const loopbackTarget = kind === TargetKind.V4Loopback || kind === TargetKind.V6Loopback;
    const usable = candidates.filter((l) => l.family === family || l.host === '::');
    // Prefer a listener bound to loopback for loopback targets and a non-loopback one otherwise.
    const isLoopback = (l: ListenerInfo) => l.host === '::1' || l.host.startsWith('127.');
    return (
      usable.find((l) => l.family === family && isLoopback(l) === loopbackTarget) ??
      usable.find((l) => l.family === family && isWildcard(l.host)) ??
      usable[0]
    );
  }

  /** Registers an accepted or opened stream connection. */
  private adopt(conn: StreamConnection): void {
    this.connections.add(conn);
    conn.limitMessageTime(this.limits.messageTimeoutMs);
    const listener = this.listenersById.get(conn.listenerId)?.info;
    const source: MessageSource = {
      transport: conn.transport,
      remoteAddress: conn.remoteAddress,
      remotePort: conn.remotePort,
      localAddress: conn.localAddress || listener?.host || '',
      localPort: conn.localPort,
      listenerId: conn.listenerId,
      connectionId: conn.id,
    };
    conn.on('message', (data) => this.emit('data', data, source));
    conn.on('ping', () => {
      this.stats.keepAlivePings++;
    });
    conn.on('violation', (reason) => {
      this.stats.streamViolations++;
      this.log.warn({
        event: 'transport_stream_violation',
        reason,
        connection: conn.id,
        remote: conn.remoteAddress,
      });
    });
    conn.on('close', () => {
      this.connections.remove(conn);
      this.log.debug({ event: 'transport_connection_closed', connection: conn.id });
      this.emit('connectionClosed', conn);
    });
    this.log.debug({
      event: 'transport_connection_opened',
      connection: conn.id,
      remote: `${conn.remoteAddress}:${conn.remotePort}`,
      outbound: conn.outbound,
    });
    this.emit('connectionOpened', conn);
  }

  /**
   * Sends bytes to a target. Streams reuse the given connection id, else an open connection to the same
   * (transport, address, port), else open a new one. Rejects on any transport error (RFC 3261 §18.4).
   */
  async sendRaw(target: TransportTarget, data: Buffer): Promise<SendResult> {
    const address = normalizeAddress(target.address);
    if (target.transport === 'udp') {
      const preferred = target.listenerId ? this.listenersById.get(target.listenerId)?.info : undefined;
      const info = preferred?.transport === 'udp' ? preferred : this.selectListener('udp', address);
      if (!info) throw new Error('no UDP listener can reach this address');
      const listener = this.listenersById.get(info.id) as UdpListener;
      if (data.length > this.limits.maxDatagramSize) throw new Error('message too large for UDP');
      await listener.send(data, address, target.port);
      return {
        transport: 'udp',
        address,
        port: target.port,
        localAddress: info.host,
        localPort: info.port,
        listenerId: info.id,
      };
    }
    const conn = await this.connectionFor({ ...target, address });
    await conn.write(data);
    return {
      transport: conn.transport,
      address: conn.remoteAddress,
      port: conn.remotePort,
      localAddress: conn.localAddress,
      localPort: conn.localPort,
      listenerId: conn.listenerId,
      connectionId: conn.id,
    };
  }

  /** The open connection for a target, opening one when none exists (one attempt per flow at a time). */
  async connectionFor(target: TransportTarget): Promise<StreamConnection> {
    if (target.connectionId) {
      const byId = this.connections.get(target.connectionId);
      if (byId && !byId.closed) return byId;
    }
    const existing = this.connections.find(target.transport, target.address, target.port);
    if (existing) return existing;
    const key = `${target.transport}|${target.address}|${target.port}`;
    const pending = this.connecting.get(key);
    if (pending) return pending;
    const attempt = this.open(target).finally(() => this.connecting.delete(key));
    this.connecting.set(key, attempt);
    return attempt;
  }

  private async open(target: TransportTarget): Promise<StreamConnection> {
    const info = this.selectListener(target.transport, target.address);
    if (!info) throw new Error(`no ${target.transport} listener can reach ${target.address}`);
    if (this.connections.countFor(target.address) >= this.limits.maxConnectionsPerIp) {
      throw new Error(`connection limit reached for ${target.address}`);
    }
    const listener = this.listenersById.get(info.id) as SocketListener | WebSocketListener;
    const conn = await listener.connect(target.address, target.port, {
      ...this.tlsClient,
      serverName: target.serverName,
    });
    this.adopt(conn);
    return conn;
  }

  /** Sends a keep-alive ping on an open connection (RFC 5626 §4.4.1). */
  ping(connectionId: string): Promise<void> {
    const conn = this.connections.get(connectionId);
    if (!conn) return Promise.reject(new Error(`no connection ${connectionId}`));
    return conn.sendPing();
  }

  closeConnection(connectionId: string): void {
    this.connections.get(connectionId)?.close();
  }

  private startReaper(): void {
    if (this.reaper || (this.limits.idleTimeoutMs <= 0 && this.limits.keepAliveIntervalMs <= 0)) return;
    const every = Math.min(
      ...[this.limits.reapIntervalMs, this.limits.keepAliveIntervalMs].filter((ms) => ms > 0),
    );
    this.reaper = setInterval(() => {
      this.sendKeepAlives();
      if (this.limits.idleTimeoutMs > 0) this.reapIdle();
    }, every);
    this.reaper.unref();
  }

  /** Pings connections we opened that have been quiet for keepAliveIntervalMs (RFC 5626 §4.4.1). */
  private sendKeepAlives(now = Date.now()): void {
    const interval = this.limits.keepAliveIntervalMs;
    if (interval <= 0) return;
    for (const conn of this.connections.all()) {
      if (conn.outbound && now - conn.lastActivity >= interval) conn.sendPing().catch(() => {});
    }
  }

  /** Closes stream connections idle for longer than idleTimeoutMs; returns how many were closed. */
  reapIdle(now = Date.now()): number {
    let reaped = 0;
    for (const conn of this.connections.all()) {
      if (now - conn.lastActivity >= this.limits.idleTimeoutMs) {
        this.log.debug({ event: 'transport_connection_reaped', connection: conn.id });
        conn.close();
        reaped++;
      }
    }
    this.stats.connectionsReaped += reaped;
    return reaped;
  }

  async close(): Promise<void> {
    if (this.reaper) clearInterval(this.reaper);
    this.reaper = undefined;
    for (const conn of this.connections.all()) conn.close();
    await Promise.all([...this.listenersById.values()].map((l) => l.stop()));
    this.listenersById.clear();
    this.listenerChoices.clear();
  }
}

/** How often the same refusal (reason, and address for per-address limits) is logged at most. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * One warning per refusal reason (per address for per-address limits) every REFUSAL_LOG_INTERVAL_MS, with
 * how many were refused since the last one: a flood of connections must not become a flood of log lines.
 */
class RefusalLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: SipLogger,
    private readonly limits: TransportLimits,
  ) {}

  note(reason: string, remoteAddress: string, listener: string, now = Date.now()): void {
    if (this.last.size >= 1_000) {
      for (const [k, e] of this.last) if (now - e.at >= REFUSAL_LOG_INTERVAL_MS) this.last.delete(k);
    }
    // Too many addresses refused at once to follow each: they share one entry.
    const perAddress = reason === ADDRESS_LIMIT && this.last.size < 1_000;
    const key = perAddress ? `${reason}|${remoteAddress}` : reason;
    const entry = this.last.get(key);
    if (entry && now - entry.at < REFUSAL_LOG_INTERVAL_MS) {
      entry.suppressed++;
      return;
    }
    const limit =
      reason === GLOBAL_LIMIT
        ? { maxConnections: this.limits.maxConnections }
        : reason === ADDRESS_LIMIT
          ? { maxConnectionsPerAddress: this.limits.maxConnectionsPerIp }
          : {};
    this.log.warn({
      event: 'transport_refused',
      reason,
      remoteAddress,
      listener,
      ...limit,
      refusedSinceLastLog: entry?.suppressed ?? 0,
    });
    this.last.set(key, { at: now, suppressed: 0 });
  }
}

/** What decides which listener a message leaves from: the target's address family, and loopback or not. */
const TargetKind = { Name: 0, V4: 1, V4Loopback: 2, V6: 3, V6Loopback: 4 } as const;
type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];

/** `target` is normalised (normalizeAddress); a host name or nothing is TargetKind.Name. */
function targetKind(target: string): TargetKind {
  switch (isIP(target)) {
    case 4:
      return target.startsWith('127.') ? TargetKind.V4Loopback : TargetKind.V4;
    case 6:
      return target === '::1' ? TargetKind.V6Loopback : TargetKind.V6;
    default:
      return TargetKind.Name;
  }
}
