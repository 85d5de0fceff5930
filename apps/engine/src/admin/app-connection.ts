import { randomUUID } from 'node:crypto';
import type { AppTransport } from './app-transport.ts';

export type AppConnectionState = 'awaiting-authentication' | 'authenticated' | 'closed';

/**
 * One drachtio-srf app connected to the admin listener (or linked in this process). Owns the transport;
 * the admin server decides what the payloads mean.
 */
export class AppConnection {
  readonly id = randomUUID();
  readonly remoteAddress: string;
  readonly remotePort: number;
  state: AppConnectionState = 'awaiting-authentication';
  /** Set once the app has authenticated; stays set after it disconnects. */
  authenticatedAt: Date | undefined;
  private tags = new Set<string>();
  private readonly closeListeners: Array<(conn: AppConnection) => void> = [];

  constructor(
    private readonly transport: AppTransport,
    onPayload: (conn: AppConnection, payload: string) => void,
  ) {
    this.remoteAddress = transport.remoteAddress;
    this.remotePort = transport.remotePort;
    transport.start(
      (payload) => {
        if (this.isOpen) onPayload(this, payload);
      },
      () => this.closed(),
    );
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
    if (this.isOpen) this.transport.send(payload);
  }

  /** Sends a last payload (if any) and closes the connection once it is written. */
  close(lastPayload?: string): void {
    if (this.isOpen) this.transport.end(lastPayload);
  }

  destroy(): void {
    this.transport.destroy();
  }

  private closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const listener of this.closeListeners) listener(this);
  }
}
