import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { encodeFrame, FrameDecoder, WireFormatError } from '../wire/frame-decoder.ts';

/** Beyond this many bytes queued towards an app that does not read, it is cut off rather than buffered. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/**
 * How one app's wire-protocol payloads travel: framed over a TCP or TLS socket, or handed across in this
 * process (in-process-link.ts). The app connection above it sees whole payloads either way.
 */
export interface AppTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Hands each whole payload received to `onPayload`, and calls `onClose` once when the transport ends. */
  start(onPayload: (payload: string) => void, onClose: () => void): void;
  send(payload: string): void;
  /** Sends a last payload (if any), then closes. */
  end(lastPayload?: string): void;
  destroy(): void;
}

/** The wire protocol's framing (`<length>#<payload>`) over a socket, as drachtio-server speaks it. */
export class SocketTransport implements AppTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly decoder = new FrameDecoder();

  constructor(
    private readonly socket: Socket,
    private readonly log: Logger,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
  }

  start(onPayload: (payload: string) => void, onClose: () => void): void {
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk, onPayload));
    this.socket.on('error', (err) => this.log.debug({ err, remote: this.remote }, 'app socket error'));
    this.socket.on('close', onClose);
  }

  send(payload: string): void {
    if (this.socket.destroyed) return;
    if (this.socket.writableLength > MAX_QUEUED_BYTES) {
      this.log.warn({ remote: this.remote }, 'app does not read its connection; disconnecting it');
      this.socket.destroy();
      return;
    }
    this.socket.write(encodeFrame(payload));
  }

  end(lastPayload?: string): void {
    if (lastPayload !== undefined && !this.socket.destroyed) this.socket.end(encodeFrame(lastPayload));
    else this.socket.end();
    // A peer that never reads must not keep the socket half-open forever.
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private get remote(): string {
    return `${this.remoteAddress}:${this.remotePort}`;
  }

  private receive(chunk: Buffer, onPayload: (payload: string) => void): void {
    let payloads: string[];
    try {
      payloads = this.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof WireFormatError)) throw err;
      this.log.warn(
        { remote: this.remote, reason: err.message },
        'invalid framing from app; disconnecting it',
      );
      this.socket.destroy();
      return;
    }
    for (const payload of payloads) {
      if (this.socket.destroyed) return;
      onPayload(payload);
    }
  }
}
