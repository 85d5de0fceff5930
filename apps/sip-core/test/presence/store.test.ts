import { describe, expect, it } from 'vitest';
import type { DialogView } from '../../src/presence/documents.ts';
import { type EventPackage, PresenceStore, type Subscription } from '../../src/presence/store.ts';

const party = (id: string) => ({ id, customerId: 'c1', aor: `sip:${id}@example.com` });

function subscription(id: string, presentity: string, event: EventPackage = 'presence'): Subscription {
  return {
    id,
    event,
    watcher: party('watcher'),
    presentity: party(presentity),
    channel: { notify: async () => {}, drop: () => {} },
    expiresAt: Date.now() + 60_000,
    version: 0,
    reported: new Map(),
    lastBody: undefined,
    queue: Promise.resolve(),
    pending: 0,
    ended: false,
  };
}

const dialog = (callId: string): DialogView => ({
  id: callId,
  callId,
  direction: 'initiator',
  state: 'confirmed',
});

describe('PresenceStore indexes', () => {
  it('finds the subscriptions of a presentity by AOR, of one package', () => {
    const store = new PresenceStore();
    store.add(subscription('s1', 'alice'));
    store.add(subscription('s2', 'alice', 'dialog'));
    store.add(subscription('s3', 'bob'));
    expect(store.watchingAor('sip:alice@example.com', 'presence').map((s) => s.id)).toEqual(['s1']);
    expect(store.watchingAor('sip:alice@example.com').map((s) => s.id)).toEqual(['s1', 's2']);
    store.remove('s1');
    expect(store.watchingAor('sip:alice@example.com', 'presence')).toEqual([]);
  });

  it('finds the subscriptions that reported a call, until they report without it or end', () => {
    const store = new PresenceStore();
    const watchingAlice = subscription('s1', 'alice', 'dialog');
    const watchingBob = subscription('s2', 'bob', 'dialog');
    // Reported before the store held it (the first NOTIFY), then added.
    watchingAlice.reported = new Map([['call-1', dialog('call-1')]]);
    store.add(watchingAlice);
    store.add(watchingBob);
    store.report(
      watchingBob,
      new Map([
        ['call-1', dialog('call-1')],
        ['call-2', dialog('call-2')],
      ]),
    );
    expect(store.reporting('call-1').map((s) => s.id)).toEqual(['s1', 's2']);
    store.report(watchingAlice, new Map());
    expect(store.reporting('call-1').map((s) => s.id)).toEqual(['s2']);
    store.remove('s2');
    expect(store.reporting('call-1')).toEqual([]);
    expect(store.reporting('call-2')).toEqual([]);
  });
});
