import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CachedSubscriber } from '../../src/directory/directory.ts';
import { MessageQueue } from '../../src/messages/queue.ts';
import type { MessageStore, StoredMessage } from '../../src/messages/store.ts';

const bob = { id: 'bob-id', username: 'bob', domain: 'example.com' } as CachedSubscriber;
const carol = { id: 'carol-id', username: 'carol', domain: 'example.com' } as CachedSubscriber;

/** A store that counts its reads and holds no messages: what a new registration costs is the count. */
function countingStore(waiting: string[]) {
  const reads: string[] = [];
  const store = {
    recipientsWithQueued: async () => waiting,
    queuedFor: async (id: string): Promise<StoredMessage[]> => {
      reads.push(id);
      return [];
    },
    attempted: async () => undefined,
  } as unknown as MessageStore;
  return { store, reads };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('MessageQueue', () => {
  it('reads the queue only for recipients known to have queued messages, once until another is queued', async () => {
    const { store, reads } = countingStore(['bob-id']);
    const queue = new MessageQueue({
      srf: {} as never,
      store,
      location: { lookup: () => [] },
      log: pino({ level: 'silent' }),
    });
    await queue.load();
    queue.registered(carol);
    queue.registered(bob);
    await settle();
    expect(reads).toEqual(['bob-id']);
    // The flush found nothing left: bob's next new device costs no read.
    queue.registered(bob);
    await settle();
    expect(reads).toEqual(['bob-id']);
    // Another node announced a message for carol.
    queue.noteQueued('carol-id');
    queue.registered(carol);
    await settle();
    expect(reads).toEqual(['bob-id', 'carol-id']);
  });
});
