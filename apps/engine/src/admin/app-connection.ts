import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { encodeFrame, FrameDecoder, WireFormatError } from '../wire/frame-decoder.ts';

/** Beyond this many bytes queued towards an app that does not read, it is cut off rather than buffered. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

export type AppConnectionState = 'awaiting-authentication' | 'authenticated' | 'closed';

/**
 * One drachtio-srf app connected to the admin listener. Owns the socket and the framing; the admin server
 * decides what the payloads mean.
 */
export class AppConnection {
  readonly id = randomUUID();
  readonly remoteAddress: string;
  readonly remotePort: number;
  state: AppConnectionState = 'awaiting-authentication';
  /** Set once the app has authenticated; stays set after it disconnects. */
  authenticatedAt: Date | undefined;
  private tags = new Set<string>();
  private readonly decoder = new FrameDecoder();
  private readonly closeListeners: Array<(conn: AppConnection) => void> = [];

  constructor(
    private readonly socket: Socket,
    private readonly log: Logger,
    private readonly onPayload: (conn: AppConnection, payload: string) => void,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.log.debug({ err, app: this.id }, 'app socket error'));
    socket.on('close', () => this.closed());
  }

  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  hasTag(tag: string): boolean {
    return this.tags.has(tag);
  }

  get tagList(): string[] {
    return [...this.tags];
  }

  /** Marks the app authenticated; from now on it may route verbs and send SIP. */
  authenticated(tags: string[]): void {
    this.tags = new Set(tags);
    this.state = 'authenticated';
    this.authenticatedAt = new Date();
  }

  onClose(listener: (conn: AppConnection) => void): void {
    this.closeListeners.push(listener);
  }

  send(payload: string): void {
    if (!this.isOpen || this.socket.destroyed) return;
    if (this.socket.writableLength > MAX_QUEUED_BYTES) {
      this.log.warn({ app: this.id }, 'app does not read its connection; disconnecting it');
      this.socket.destroy();
      return;
    }
    this.socket.write(encodeFrame(payload));
  }

  /** Sends a last payload (if any) and closes the connection once it is written. */
  close(lastPayload?: string): void {
    if (!this.isOpen) return;
    if (lastPayload !== undefined && !this.socket.destroyed) this.socket.end(encodeFrame(lastPayload));
    else this.socket.end();
    // A peer that never reads must not keep the socket half-open forever.
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (!this.isOpen) return;
    let payloads: string[];
    try {
      payloads = this.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof WireFormatError)) throw err;
      this.log.warn({ app: this.id, reason: err.message }, 'invalid framing from app; disconnecting it');
      this.socket.destroy();
      return;
    }
    for (const payload of payloads) {
      if (!this.isOpen || this.socket.destroyed) return;
      this.onPayload(this, payload);
    }
  }

  private closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const listener of this.closeListeners) listener(this);
  }
}
