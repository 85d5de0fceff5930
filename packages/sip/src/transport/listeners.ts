import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import {
  type FramerFactory,
  SocketConnection,
  type StreamConnection,
  WebSocketConnection,
} from './connection.ts';
import {
  addressFamily,
  type ListenerInfo,
  type ListenerSpec,
  normalizeAddress,
  type TransportLimits,
} from './types.ts';

export interface ListenerEvents {
  /** A UDP datagram (already size-checked). */
  datagram: [data: Buffer, remoteAddress: string, remotePort: number];
  /** A stream connection was accepted. */
  connection: [connection: StreamConnection];
  /** An inbound connection or datagram was refused before reaching SIP (size, limits, handshake). */
  refused: [reason: string, remoteAddress: string];
}

export interface ListenerContext {
  limits: TransportLimits;
  framerFactory: FramerFactory;
  /** Asked before accepting a connection from this IP: why it is refused (a connection limit), or null. */
  admitConnection(remoteAddress: string): string | null;
}

let nextListenerNumber = 1;

/** Refusal reasons, as logged and counted. */
export const GLOBAL_LIMIT = 'connection limit reached (all addresses)';
export const ADDRESS_LIMIT = 'connection limit per address';

/** A bound local socket for one transport. */
export abstract class Listener extends EventEmitter<ListenerEvents> {
  readonly id: string;
  info!: ListenerInfo;

  constructor(
    readonly spec: ListenerSpec,
    protected readonly ctx: ListenerContext,
  ) {
    super();
    this.id = `${spec.transport}:${nextListenerNumber++}`;
  }

  abstract start(): Promise<ListenerInfo>;
  abstract stop(): Promise<void>;

  /**
   * Serves new connections with another certificate and key (a renewed certificate); connections
   * already open keep the one they were made with. Only for tls and wss listeners.
   */
  replaceCertificate(_cert: string | Buffer, _key: string | Buffer): void {
    throw new Error(`a ${this.spec.transport} listener has no certificate`);
  }

  protected describe(host: string, port: number): ListenerInfo {
    const family = addressFamily(host) === 6 ? 6 : 4;
    this.info = {
      id: this.id,
      transport: this.spec.transport,
      host: normalizeAddress(host),
      port,
      advertisedHost: this.spec.advertisedHost ?? advertisableAddress(normalizeAddress(host), family),
      advertisedPort: this.spec.advertisedPort ?? port,
      family,
    };
    return this.info;
  }
}

/** SIP over UDP (RFC 3261 §18): one message per datagram. */
export class UdpListener extends Listener {
  private socket?: dgram.Socket;

  async start(): Promise<ListenerInfo> {
    const type = addressFamily(this.spec.host) === 6 ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6' && this.spec.host !== '::' });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.spec.port, this.spec.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => {
      // ICMP errors surface as send callbacks; a listening UDP socket has nothing else to report.
    });
    const receiveBufferBytes = this.growReceiveBuffer(socket);
    socket.on('message', (data, rinfo) => {
      if (data.length > this.ctx.limits.maxDatagramSize) {
        this.emit('refused', 'datagram too large', rinfo.address);
        return;
      }
      this.emit('datagram', data, normalizeAddress(rinfo.address), rinfo.port);
    });
    const addr = socket.address();
    const info = this.describe(addr.address, addr.port);
    info.receiveBufferBytes = receiveBufferBytes;
    return info;
  }

  /**
   * Asks for the configured receive buffer: the kernel queues datagrams there while the event loop is
   * busy, and the system default (about 200 KB on Linux) holds well under a tenth of a second of
   * REGISTER traffic at a few thousand per second. The kernel caps the size at `net.core.rmem_max`
   * without an error; a refusal keeps the default. Returns the size granted.
   */
  private growReceiveBuffer(socket: dgram.Socket): number {
    const wanted = this.ctx.limits.udpReceiveBufferBytes;
    if (wanted > 0) {
      try {
        socket.setRecvBufferSize(wanted);
      } catch {
        // Not permitted here: the system default stays.
      }
    }
    return socket.getRecvBufferSize();
  }

  send(data: Buffer, address: string, port: number): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new Error('UDP listener not started'));
    return new Promise((resolve, reject) => {
      socket.send(data, port, address, (err) => (err ? reject(err) : resolve()));
    });
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

/**
 * The certificate and key of a secure listener swapped for new ones: checked first as a pair (a bad
 * file throws here and the old certificate stays), then set on the server for the next handshakes.
 */
function swapCertificate(
  spec: ListenerSpec,
  server: tls.Server | undefined,
  cert: string | Buffer,
  key: string | Buffer,
): void {
  if (!spec.tls || !server) throw new Error(`the ${spec.transport} listener is not serving TLS`);
  const next = { ...spec.tls, cert, key };
  tls.createSecureContext({ cert, key, ca: next.ca });
  server.setSecureContext({ cert, key, ca: next.ca });
  spec.tls = next;
}

/** SIP over TCP or TLS (RFC 3261 §18.3): accepts connections and opens outbound ones. */
export class SocketListener extends Listener {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  override replaceCertificate(cert: string | Buffer, key: string | Buffer): void {
    swapCertificate(this.spec, this.server instanceof tls.Server ? this.server : undefined, cert, key);
  }

  async start(): Promise<ListenerInfo> {
    const isTls = this.spec.transport === 'tls';
    if (isTls && !this.spec.tls) throw new Error('a tls listener needs tls.cert and tls.key');
    const onSocket = (socket: net.Socket) => this.accept(socket);
    const server = isTls
      ? tls.createServer(
          {
            cert: this.spec.tls!.cert,
            key: this.spec.tls!.key,
            ca: this.spec.tls!.ca,
            requestCert: this.spec.tls!.requestCert ?? false,
            rejectUnauthorized: this.spec.tls!.requestCert ?? false,
            handshakeTimeout: this.ctx.limits.connectTimeoutMs,
          },
          onSocket,
        )
      : net.createServer(onSocket);
    // The kernel-level backstop of the global cap: it also counts TLS handshakes not yet accepted.
    server.maxConnections = this.ctx.limits.maxConnections;
    server.on('drop', (data) => {
      this.emit('refused', GLOBAL_LIMIT, normalizeAddress(data?.remoteAddress ?? ''));
    });
    if (isTls) {
      server.on('tlsClientError', (_err, socket) => {
        this.emit('refused', 'tls handshake failed', normalizeAddress(socket.remoteAddress ?? ''));
      });
    }
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(
        { port: this.spec.port, host: this.spec.host, ipv6Only: this.spec.host === '::1' },
        () => {
          server.off('error', reject);
          resolve();
        },
      );
    });
    server.on('error', () => {});
    const addr = server.address() as net.AddressInfo;
    return this.describe(addr.address, addr.port);
  }

  private accept(socket: net.Socket): void {
    const remote = normalizeAddress(socket.remoteAddress ?? '');
    const refusal = this.ctx.admitConnection(remote);
    if (refusal !== null) {
      this.emit('refused', refusal, remote);
      socket.destroy();
      return;
    }
    this.track(socket);
    const conn = new SocketConnection(
      this.spec.transport as 'tcp' | 'tls',
      this.id,
      false,
      socket,
      this.ctx.framerFactory,
      this.ctx.limits.maxStreamMessageSize,
    );
    this.emit('connection', conn);
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Opens an outbound connection to address:port (TLS verifies the peer unless told not to). */
  connect(
    address: string,
    port: number,
    tlsClient: { ca?: TlsCa; rejectUnauthorized: boolean; serverName?: string },
  ): Promise<SocketConnection> {
    const timeoutMs = this.ctx.limits.connectTimeoutMs;
    return new Promise((resolve, reject) => {
      const family = addressFamily(address) === 6 ? 6 : 4;
      const localAddress = isWildcard(this.info.host) ? undefined : this.info.host;
      let socket: net.Socket;
      const onConnected = () => {
        clearTimeout(timer);
        socket.off('error', onError);
        this.track(socket);
        resolve(
          new SocketConnection(
            this.spec.transport as 'tcp' | 'tls',
            this.id,
            true,
            socket,
            this.ctx.framerFactory,
            this.ctx.limits.maxStreamMessageSize,
          ),
        );
      };
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      if (this.spec.transport === 'tls') {
        const serverName = tlsClient.serverName ?? (addressFamily(address) === 0 ? address : undefined);
        // Dial TCP ourselves so the local address can be chosen, then run the TLS handshake over it.
        const tcp = net.connect({ host: address, port, family, localAddress });
        tcp.once('error', onError);
        socket = tls.connect(
          {
            socket: tcp,
            ca: tlsClient.ca,
            cert: this.spec.tls?.cert,
            key: this.spec.tls?.key,
            servername: serverName,
            rejectUnauthorized: tlsClient.rejectUnauthorized,
            // Without SNI (numeric target) verify the certificate against the IP address we dialled.
            checkServerIdentity: (_host, cert) => tls.checkServerIdentity(serverName ?? address, cert),
          },
          onConnected,
        );
      } else {
        socket = net.connect({ host: address, port, family, localAddress }, onConnected);
      }
      socket.once('error', onError);
      const timer = setTimeout(
        () => onError(new Error(`connect to ${address}:${port} timed out`)),
        timeoutMs,
      );
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

type TlsCa = string | Buffer | Array<string | Buffer>;

/** SIP over WebSocket (RFC 7118) on an HTTP(S) server; only clients offering the `sip` subprotocol get in. */
export class WebSocketListener extends Listener {
  private server?: http.Server | https.Server;
  private wss?: WebSocketServer;

  override replaceCertificate(cert: string | Buffer, key: string | Buffer): void {
    swapCertificate(this.spec, this.server instanceof https.Server ? this.server : undefined, cert, key);
  }

  async start(): Promise<ListenerInfo> {
    const secure = this.spec.transport === 'wss';
    if (secure && !this.spec.tls) throw new Error('a wss listener needs tls.cert and tls.key');
    // An HTTP upgrade request trickled in byte by byte is bounded like a SIP message.
    const messageTimeoutMs = this.ctx.limits.messageTimeoutMs;
    const timeouts =
      messageTimeoutMs > 0
        ? {
            headersTimeout: messageTimeoutMs,
            requestTimeout: messageTimeoutMs,
            connectionsCheckingInterval: Math.min(1_000, messageTimeoutMs),
          }
        : {};
    const server = secure
      ? https.createServer({
          cert: this.spec.tls!.cert,
          key: this.spec.tls!.key,
          ca: this.spec.tls!.ca,
          ...timeouts,
        })
      : http.createServer(timeouts);
    server.maxConnections = this.ctx.limits.maxConnections;
    server.on('drop', (data) => {
      this.emit('refused', GLOBAL_LIMIT, normalizeAddress(data?.remoteAddress ?? ''));
    });
    server.on('request', (_req, res) => {
      res.writeHead(426, { Connection: 'close', Upgrade: 'websocket' }).end();
    });
    const wss = new WebSocketServer({
      server,
      // Frames are emitted within the socket's 'data' event: the message deadline relies on it.
      allowSynchronousEvents: true,
      maxPayload: this.ctx.limits.maxStreamMessageSize,
      // RFC 7118 §4.1: the server must answer with the `sip` subprotocol; a client not asking for it is refused.
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
      verifyClient: (info: { req: http.IncomingMessage }, done: (ok: boolean, code?: number) => void) => {
        const remote = normalizeAddress(info.req.socket.remoteAddress ?? '');
        const offered = (info.req.headers['sec-websocket-protocol'] ?? '')
          .split(',')
          .map((p) => p.trim().toLowerCase());
        if (!offered.includes('sip')) {
          this.emit('refused', 'websocket client did not offer the sip subprotocol', remote);
          done(false, 400);
          return;
        }
        const refusal = this.ctx.admitConnection(remote);
        if (refusal !== null) {
          this.emit('refused', refusal, remote);
          done(false, 503);
          return;
        }
        done(true);
      },
    });
    wss.on('connection', (ws, req) => {
      const sock = req.socket;
      this.emit(
        'connection',
        new WebSocketConnection(
          this.spec.transport as 'ws' | 'wss',
          this.id,
          false,
          ws,
          {
            remoteAddress: sock.remoteAddress ?? '',
            remotePort: sock.remotePort ?? 0,
            localAddress: sock.localAddress ?? '',
            localPort: sock.localPort ?? 0,
          },
          sock,
        ),
      );
    });
    wss.on('error', () => {});
    this.server = server;
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(
        { port: this.spec.port, host: this.spec.host, ipv6Only: this.spec.host === '::1' },
        () => {
          server.off('error', reject);
          resolve();
        },
      );
    });
    const addr = server.address() as net.AddressInfo;
    return this.describe(addr.address, addr.port);
  }

  /** Opens an outbound WebSocket connection (subprotocol `sip`). */
  async connect(
    address: string,
    port: number,
    tlsClient: { ca?: TlsCa; rejectUnauthorized: boolean; serverName?: string },
  ): Promise<WebSocketConnection> {
    const secure = this.spec.transport === 'wss';
    const host = addressFamily(address) === 6 ? `[${address}]` : address;
    const ws = new WebSocket(`${secure ? 'wss' : 'ws'}://${host}:${port}/`, 'sip', {
      handshakeTimeout: this.ctx.limits.connectTimeoutMs,
      maxPayload: this.ctx.limits.maxStreamMessageSize,
      allowSynchronousEvents: true,
      ca: tlsClient.ca,
      rejectUnauthorized: tlsClient.rejectUnauthorized,
      localAddress: isWildcard(this.info.host) ? undefined : this.info.host,
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        ws.off('error', reject);
        resolve();
      });
      ws.once('error', reject);
    });
    if (ws.protocol !== 'sip') {
      ws.terminate();
      throw new Error('WebSocket server did not accept the sip subprotocol');
    }
    // ws exposes the underlying socket only as its internal `_socket` field: the one place to read the 4-tuple.
    const sock = (ws as unknown as { _socket: net.Socket })._socket;
    return new WebSocketConnection(
      this.spec.transport as 'ws' | 'wss',
      this.id,
      true,
      ws,
      {
        remoteAddress: sock.remoteAddress ?? address,
        remotePort: sock.remotePort ?? port,
        localAddress: sock.localAddress ?? '',
        localPort: sock.localPort ?? 0,
      },
      sock,
    );
  }

  async stop(): Promise<void> {
    const wss = this.wss;
    const server = this.server;
    this.wss = undefined;
    this.server = undefined;
    if (wss) {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

/**
 * A wildcard bind address cannot go into Via or Contact: use the first non-internal interface address of
 * the family instead (loopback when there is none). Deployments set advertisedHost explicitly.
 */
function advertisableAddress(host: string, family: 4 | 6): string {
  if (!isWildcard(host)) return host;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === (family === 4 ? 'IPv4' : 'IPv6') && !a.address.startsWith('fe80')) {
        return a.address;
      }
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}
