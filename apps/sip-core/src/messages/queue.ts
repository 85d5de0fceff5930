import type { Logger } from 'pino';
import type { ClusterRoutes } from '../calls/cluster-route.ts';
import { deviceTargets } from '../calls/devices.ts';
import type { CachedSubscriber } from '../directory/directory.ts';
import type { LocationService } from '../location/location-service.ts';
import { type MessageRequester, relayToDevices } from './relay.ts';
import { aorOf, type MessageStore } from './store.ts';

export interface QueueDeps {
  srf: MessageRequester;
  /** Devices registered on other nodes are reached through them; unset: one node. */
  cluster?: ClusterRoutes | undefined;
  store: MessageStore;
  location: Pick<LocationService, 'lookup'>;
  log: Logger;
}

/** New registrations that find a message queued give it this many tries before it counts as failed. */
export const MAX_ATTEMPTS = 5;
/** Messages read per batch, and batches per flush: a flush sends at most 500 messages. */
const BATCH = 50;
const MAX_BATCHES = 10;

/**
 * Messages stored for a recipient that had no registered device (RFC 3428 §7: the 202 told the
 * sender so), sent when the recipient registers a device again, oldest first, each with its original
 * time in a Date header (RFC 3261 §20.17). A failure stops the flush so that no later message
 * overtakes it; the next new registration tries again, up to MAX_ATTEMPTS. One flush per recipient
 * at a time.
 */
export class MessageQueue {
  private readonly flushing = new Map<string, { again: boolean }>();
  /**
   * Recipients with queued messages, so that a new registration of anybody else costs no database
   * read: loaded at start, added to by every node's announcement (MESSAGES_CHANNEL), cleared by a
   * flush that leaves nothing queued.
   */
  private readonly waiting = new Set<string>();

  constructor(private readonly deps: QueueDeps) {}

  /** Reads who has queued messages (start, and after the change feed reconnects). */
  async load(): Promise<void> {
    for (const id of await this.deps.store.recipientsWithQueued()) this.waiting.add(id);
  }

  /** A message was queued for `subscriberId` (on this node or another). */
  noteQueued(subscriberId: string): void {
    this.waiting.add(subscriberId);
    const running = this.flushing.get(subscriberId);
    if (running) running.again = true;
  }

  /** The registrar's hook: `subscriber` has just registered a device it did not have a binding for. */
  registered(subscriber: CachedSubscriber): void {
    if (!this.waiting.has(subscriber.id)) return;
    const running = this.flushing.get(subscriber.id);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    this.flushing.set(subscriber.id, state);
    (async () => {
      let emptied = false;
      do {
        state.again = false;
        emptied = await this.flush(subscriber);
      } while (state.again);
      if (emptied) this.waiting.delete(subscriber.id);
    })()
      .catch((error: unknown) =>
        this.deps.log.error({ err: error, subscriber: subscriber.id }, 'queued messages not sent'),
      )
      .finally(() => this.flushing.delete(subscriber.id));
  }

  /** Sends what is queued, oldest first; true when nothing is left queued. */
  private async flush(subscriber: CachedSubscriber): Promise<boolean> {
    const { store, location, log } = this.deps;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const queued = await store.queuedFor(subscriber.id, BATCH);
      for (const message of queued) {
        // The device has just registered: its flow is live, no push needed.
        const targets = deviceTargets(location.lookup(aorOf(subscriber)));
        const outcome = await relayToDevices(this.deps, targets, {
          headers: {
            From: `<${message.fromUri}>`,
            To: `<${message.toUri}>`,
            'Content-Type': message.contentType,
            Date: message.createdAt.toUTCString(),
          },
          body: message.body,
        });
        await store.attempted(message, outcome, MAX_ATTEMPTS);
        log.info(
          { message: message.id, to: message.toUri, status: outcome.status, attempt: message.attempts + 1 },
          outcome.status < 300 ? 'queued message delivered' : 'queued message not delivered',
        );
        if (outcome.status >= 300) return false;
      }
      if (queued.length < BATCH) return true;
    }
    return false;
  }
}
