import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { normalizeAddress, type TransportProtocol } from './types.ts';

/** What a stream connection reports while bytes arrive (the transport layer listens to these). */
export interface ConnectionEvents {
  /** One complete SIP message (framed by Content-Length on TCP/TLS, one frame on WebSocket). */
  message: [data: Buffer];
  /** A keep-alive ping (double CRLF) arrived; the connection already answered with a pong. */
  ping: [];
  /** A keep-alive pong (single CRLF) arrived. */
  pong: [];
  /** The peer broke a framing rule or a size limit; the connection closes right after. */
  violation: [reason: string];
  close: [];
}

/**
 * Splits a TCP/TLS byte stream into SIP messages (RFC 3261 §18.3) and keep-alives (RFC 5626 §4.4.1).
 * The transport layer gives each connection its own framer.
 */
export interface ConnectionFramer {
  /** Feeds received bytes; calls the sink for every complete message or keep-alive found. */
  push(chunk: Buffer): void;
  /** Bytes held that do not form a complete message yet. */
  readonly buffered: number;
}

export interface FramerSink {
  message(data: Buffer): void;
  ping(): void;
  pong(): void;
  /** Framing error or size limit exceeded: the connection must be closed. */
  error(reason: string): void;
}

export type FramerFactory = (sink: FramerSink, maxMessageSize: number) => ConnectionFramer;

let nextConnectionNumber = 1;

/** A reliable connection (TCP, TLS, WS or WSS) the transport layer sends on and receives from. */
export abstract class StreamConnection extends EventEmitter<ConnectionEvents> {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Last time anything was sent or received (ms since epoch), for idle reaping. */
  lastActivity = Date.now();
  closed = false;
  /** How long a message may take to arrive once its first byte did (0: no limit); see limitMessageTime(). */
  private messageTimeoutMs = 0;
  private deadline: NodeJS.Timeout | undefined;

  constructor(
    readonly transport: TransportProtocol,
    /** The listener this connection belongs to (accepted on it, or opened on its behalf). */
    readonly listenerId: string,
    /** True when we opened the connection. */
    readonly outbound: boolean,
    endpoints: { remoteAddress: string; remotePort: number; localAddress: string; localPort: number },
  ) {
    super();
    this.id = `${transport}-${nextConnectionNumber++}`;
    this.remoteAddress = normalizeAddress(endpoints.remoteAddress);
    this.remotePort = endpoints.remotePort;
    this.localAddress = normalizeAddress(endpoints.localAddress);
    this.localPort = endpoints.localPort;
  }

  /** Writes bytes; resolves when handed to the OS, rejects when the connection is gone. */
  abstract write(data: Buffer): Promise<void>;

  /** Closes gracefully (FIN / WebSocket close frame); `close` is emitted once. */
  abstract close(): void;

  /** Sends a keep-alive ping (RFC 5626 §4.4.1 double CRLF on TCP/TLS). */
  sendPing(): Promise<void> {
    return this.write(Buffer.from('\r\n\r\n'));
  }

  protected touch(): void {
    this.lastActivity = Date.now();
  }

  /** Closes the connection at once (no FIN handshake). */
  abstract destroy(): void;

  /**
   * From now on a message must be complete within `ms` of its first byte. The idle timer alone cannot stop
   * a peer that sends one byte at a time (each byte is activity): this clock is not refreshed by bytes,
   * only by a message completing.
   */
  limitMessageTime(ms: number): void {
    this.messageTimeoutMs = ms;
  }

  /**
   * Called after each chunk received: `pending` when part of a message is waiting for more bytes,
   * `completed` when the chunk finished a message (so what is pending now is a new message).
   */
  protected messageProgress(pending: boolean, completed: boolean): void {
    if (!pending) {
      this.stopMessageClock();
      return;
    }
    if (this.deadline !== undefined && !completed) return; // still the same message
    this.stopMessageClock();
    if (this.messageTimeoutMs <= 0 || this.closed) return;
    const ms = this.messageTimeoutMs;
    this.deadline = setTimeout(() => {
      this.deadline = undefined;
      this.emit('violation', `message not complete within ${ms} ms of its first byte`);
      this.destroy();
    }, ms);
    this.deadline.unref();
  }

  private stopMessageClock(): void {
    if (this.deadline === undefined) return;
    clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  protected markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopMessageClock();
    this.emit('close');
  }
}

/** SIP over TCP or TLS: a byte stream framed by Content-Length. */
export class SocketConnection extends StreamConnection {
  private readonly framer: ConnectionFramer;
  /** Messages and keep-alives framed so far. */
  private framed = 0;

  constructor(
    transport: 'tcp' | 'tls',
    listenerId: string,
    outbound: boolean,
    private readonly socket: Socket,
    framerFactory: FramerFactory,
    maxMessageSize: number,
  ) {
    super(transport, listenerId, outbound, {
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
    });
    this.framer = framerFactory(
      {
        message: (data) => {
          this.framed++;
          this.emit('message', data);
        },
        ping: () => {
          this.framed++;
          // RFC 5626 §4.4.1: a double-CRLF ping is answered with a single-CRLF pong.
          this.write(Buffer.from('\r\n')).catch(() => {});
          this.emit('ping');
        },
        pong: () => {
          this.framed++;
          this.emit('pong');
        },
        error: (reason) => {
          this.emit('violation', reason);
          this.socket.destroy();
        },
      },
      maxMessageSize,
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.touch();
      if (this.closed) return;
      const before = this.framed;
      this.framer.push(chunk);
      this.messageProgress(this.framer.buffered > 0, this.framed !== before);
    });
    socket.on('error', () => {
      // 'close' follows every socket error; the transport layer learns about it there.
    });
    socket.on('close', () => this.markClosed());
  }

  write(data: Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed)
      return Promise.reject(new Error(`connection ${this.id} is closed`));
    this.touch();
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    if (this.closed) return;
    this.socket.end();
    // A peer that never answers the FIN must not keep the socket forever.
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const CRLF_ONLY = /^(\r\n)+$/;

/** SIP over WebSocket (RFC 7118): one SIP message per text or binary frame. */
export class WebSocketConnection extends StreamConnection {
  constructor(
    transport: 'ws' | 'wss',
    listenerId: string,
    outbound: boolean,
    private readonly ws: WebSocket,
    endpoints: { remoteAddress: string; remotePort: number; localAddress: string; localPort: number },
    /** The TCP (or TLS) socket under the WebSocket, watched for the message deadline. */
    socket?: Socket,
  ) {
    super(transport, listenerId, outbound, endpoints);
    // ws reads each chunk in its own 'data' listener, registered before this one, and emits the frames it
    // completes synchronously (allowSynchronousEvents): here we know whether a chunk completed a frame.
    // A chunk that completes none leaves a frame pending; one that completes a frame clears the clock (a
    // frame it started as well is timed from the next chunk on).
    let completed = false;
    socket?.on('data', () => {
      this.messageProgress(!completed, false);
      completed = false;
    });
    const frameDone = (): void => {
      completed = true;
    };
    ws.on('ping', frameDone);
    ws.on('pong', frameDone);
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      frameDone();
      this.touch();
      const buf = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data as ArrayBuffer);
      const text = buf.length <= 8 ? buf.toString('latin1') : '';
      if (text && CRLF_ONLY.test(text)) {
        // Browsers' SIP stacks send the RFC 5626 double CRLF inside a frame; answer it the same way.
        if (text.length >= 4) {
          this.write(Buffer.from('\r\n')).catch(() => {});
          this.emit('ping');
        } else {
          this.emit('pong');
        }
        return;
      }
      this.emit('message', buf);
    });
    ws.on('ping', () => this.touch());
    ws.on('pong', () => this.touch());
    ws.on('error', (err: Error & { code?: string }) => {
      // ws reports oversize frames (maxPayload) as errors before closing with 1009.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.emit('violation', 'message too large');
    });
    ws.on('close', () => this.markClosed());
  }

  write(data: Buffer): Promise<void> {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) {
      return Promise.reject(new Error(`connection ${this.id} is closed`));
    }
    this.touch();
    return new Promise((resolve, reject) => {
      // SIP messages are UTF-8 text; RFC 7118 §5.1 allows either frame type, text is what browsers expect.
      this.ws.send(data, { binary: false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  override sendPing(): Promise<void> {
    return this.write(Buffer.from('\r\n\r\n'));
  }

  close(): void {
    if (this.closed) return;
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 2_000).unref();
  }

  destroy(): void {
    this.ws.terminate();
  }
}
