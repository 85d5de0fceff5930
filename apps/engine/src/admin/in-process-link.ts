import { EventEmitter } from 'node:events';
import type { AppTransport } from './app-transport.ts';

/**
 * An app in the engine's own process (the all-in-one launcher's sip-core): the wire protocol's payloads
 * pass between the two as strings, with no socket, no framing and no second copy through the kernel.
 * What is said is unchanged (authenticate, route, sip, proxy, ...), so the app and the admin server treat
 * it as any connection. Each direction delivers at the end of the sender's turn, in order, so neither side
 * runs inside the other's call stack, as with a socket.
 */
export class InProcessLink {
  closed = false;
  readonly engineEnd: EngineEnd;
  /** Hand this to drachtio-srf: `srf.connect({ socket: link.appEnd, secret })` (our patched drachtio-srf). */
  readonly appEnd: AppEnd;

  /**
   * `onEngineError`: a payload the engine's side threw on (the admin server catches its own handlers'
   * errors, so this is a bug): the payloads behind it are still delivered. An app side that throws gets
   * an 'error' event on its end, as a socket's user would.
   */
  constructor(readonly onEngineError: (err: unknown) => void) {
    this.engineEnd = new EngineEnd(this);
    this.appEnd = new AppEnd(this);
    // drachtio-srf listens for 'connect' after connect() returns, as it would on a socket.
    setImmediate(() => {
      if (!this.closed) this.appEnd.emit('connect');
    });
  }

  /** Either side ended or destroyed the link: both see it closed once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.appEnd.destroyed = true;
    queueMicrotask(() => {
      this.engineEnd.closedByLink();
      this.appEnd.emit('close', false);
    });
  }
}

/** Payloads queued in one direction, delivered together once the sender's turn ends. */
class Mailbox {
  private queue: string[] = [];
  private scheduled = false;
  private closing = false;

  constructor(
    private readonly link: InProcessLink,
    private readonly deliver: (payload: string) => void,
    private readonly failed: (err: unknown) => void,
  ) {}

  post(payload: string): void {
    // Nothing is sent after the end, as on a socket.
    if (this.closing) return;
    this.queue.push(payload);
    this.schedule();
  }

  /** Closes the link once what is queued now has been delivered. */
  closeWhenDelivered(): void {
    this.closing = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    this.deliverAll(queue);
    if (this.closing) this.link.close();
  };

  private deliverAll(queue: string[]): void {
    for (const payload of queue) {
      if (this.link.closed) return;
      try {
        this.deliver(payload);
      } catch (err) {
        // One payload's failure must not cost the ones queued behind it.
        this.failed(err);
      }
    }
  }
}

/** The engine's side: what the admin server's app connection sends and receives through. */
class EngineEnd implements AppTransport {
  readonly remoteAddress = 'in-process';
  readonly remotePort = 0;
  readonly fromApp: Mailbox;
  private readonly toApp: Mailbox;
  private onPayload: ((payload: string) => void) | undefined;
  private onClose: (() => void) | undefined;

  constructor(private readonly link: InProcessLink) {
    this.toApp = new Mailbox(
      link,
      (payload) => link.appEnd.emit('data', payload),
      (err) => {
        // drachtio-srf turns a socket error into an 'error' event of its own, which throws when unheard:
        // then it surfaces as an uncaught exception, as a throw in a socket's 'data' handler would.
        try {
          link.appEnd.emit('error', err);
        } catch (unheard) {
          setImmediate(() => {
            throw unheard;
          });
        }
      },
    );
    this.fromApp = new Mailbox(link, (payload) => this.onPayload?.(payload), link.onEngineError);
  }

  start(onPayload: (payload: string) => void, onClose: () => void): void {
    this.onPayload = onPayload;
    this.onClose = onClose;
  }

  send(payload: string): void {
    if (!this.link.closed) this.toApp.post(payload);
  }

  end(lastPayload?: string): void {
    if (lastPayload !== undefined) this.send(lastPayload);
    this.toApp.closeWhenDelivered();
  }

  destroy(): void {
    this.link.close();
  }

  closedByLink(): void {
    this.onClose?.();
  }
}

/**
 * The app's side, shaped for drachtio-srf's wire protocol: it listens for 'connect', 'data', 'error' and
 * 'close', sends through `writeMessage`, and ends with `end()`.
 */
export class AppEnd extends EventEmitter {
  readonly remoteAddress = 'in-process';
  readonly remotePort = 0;
  readonly localPort = 0;
  destroyed = false;

  constructor(private readonly link: InProcessLink) {
    super();
  }

  writeMessage(payload: string): void {
    if (!this.link.closed) this.link.engineEnd.fromApp.post(payload);
  }

  end(): void {
    this.link.engineEnd.fromApp.closeWhenDelivered();
  }

  destroy(): void {
    this.link.close();
  }
}
