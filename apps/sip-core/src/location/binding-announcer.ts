import { type PrismaClient, REGISTRATIONS_CHANNEL } from '@switchboard/db';
import type { Logger } from 'pino';
import { chunkBySize, MAX_NOTIFY_PAYLOAD } from '../announcements.ts';
import type { Binding } from './binding.ts';

/**
 * What goes out on `REGISTRATIONS_CHANNEL`: the AORs whose changes are now in the table (the others
 * reload them), or, ahead of the table, the changed bindings themselves (the others apply them at
 * once). `origin` tells a process its own messages.
 */
export interface BindingNews {
  origin: string;
  aors?: string[];
  bindings?: Binding[];
  removed?: Array<{ aor: string; bindingKey: string }>;
}

/**
 * Announces binding changes to the other sip-core workers and nodes (PostgreSQL NOTIFY, so every
 * process that reads the registrations table hears it, with nothing else to run).
 *
 * `committed` follows the write-behind commit. `share` is for several workers or nodes: the
 * registrar's answer waits for it, so a call to the device placed right after its 200 OK finds the
 * binding on any worker although the table gets it up to the write-behind window later. The shares of
 * one event-loop turn go out together.
 */
export class BindingAnnouncer {
  private batch: { bindings: Binding[]; removed: Array<{ aor: string; bindingKey: string }> } | undefined;
  private sent: Promise<void> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    readonly origin: string,
    private readonly log: Logger,
  ) {}

  /** These AORs' changes are committed: the others reload them from the table. */
  committed(aors: string[]): void {
    for (const chunk of chunkBySize(aors, (aor) => aor.length + 3))
      this.notify({ aors: chunk, origin: this.origin }).catch((error: unknown) =>
        this.log.warn({ err: error }, 'could not announce registration change'),
      );
  }

  /**
   * Sends changed bindings ahead of the table; resolves once sent (never rejects: a failed send only
   * means the others learn of the change at the commit).
   */
  share(bindings: Binding[], removed: Array<{ aor: string; bindingKey: string }>): Promise<void> {
    if (!this.batch) {
      this.batch = { bindings: [], removed: [] };
      this.sent = new Promise<void>((resolve) => setImmediate(() => this.sendBatch().then(resolve)));
    }
    this.batch.bindings.push(...bindings);
    this.batch.removed.push(...removed);
    return this.sent as Promise<void>;
  }

  private async sendBatch(): Promise<void> {
    const batch = this.batch;
    this.batch = undefined;
    if (!batch) return;
    const payloads: BindingNews[] = [];
    let current: BindingNews = { origin: this.origin, bindings: [], removed: [] };
    let size = 0;
    const add = (bytes: number, put: (news: BindingNews) => void): void => {
      // One binding too large for any payload (a very long Path) is left to the commit announcement.
      if (bytes > MAX_NOTIFY_PAYLOAD) return;
      if (size + bytes > MAX_NOTIFY_PAYLOAD) {
        payloads.push(current);
        current = { origin: this.origin, bindings: [], removed: [] };
        size = 0;
      }
      put(current);
      size += bytes;
    };
    for (const binding of batch.bindings)
      add(JSON.stringify(binding).length + 1, (news) => news.bindings?.push(binding));
    for (const removal of batch.removed)
      add(JSON.stringify(removal).length + 1, (news) => news.removed?.push(removal));
    if (size > 0) payloads.push(current);
    try {
      await Promise.all(payloads.map((news) => this.notify(news)));
    } catch (error) {
      this.log.warn({ err: error }, 'could not share registration change ahead of the table');
    }
  }

  private async notify(news: BindingNews): Promise<void> {
    await this.prisma.$executeRaw`SELECT pg_notify(${REGISTRATIONS_CHANNEL}, ${JSON.stringify(news)})`;
  }
}

/** A REGISTRATIONS_CHANNEL payload, or undefined when it is not one. */
export function parseBindingNews(payload: string): BindingNews | undefined {
  let news: BindingNews;
  try {
    news = JSON.parse(payload) as BindingNews;
  } catch {
    return undefined;
  }
  if (typeof news !== 'object' || news === null || typeof news.origin !== 'string') return undefined;
  return news;
}

/** A binding as another process shared it, checked enough to be put in memory. */
export function isSharedBinding(value: unknown): value is Binding {
  const b = value as Binding;
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.aor === 'string' &&
    typeof b.bindingKey === 'string' &&
    typeof b.contactUri === 'string' &&
    typeof b.expiresAt === 'number' &&
    typeof b.receivedAddress === 'string' &&
    typeof b.receivedPort === 'number' &&
    Array.isArray(b.path) &&
    typeof b.node === 'string'
  );
}
