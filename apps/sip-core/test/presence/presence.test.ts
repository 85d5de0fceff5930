import { fileURLToPath } from 'node:url';
import { sipHa1 } from '@switchboard/db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allocatePort, expectSippOk, runSipp } from '../calls/support/sipp.ts';
import {
  type CallStack,
  callFields,
  closeCallStack,
  DOMAIN,
  registerWithSipp,
  startCallStack,
} from '../calls/support/stack.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';

/**
 * Presence (RFC 3856) and dialog (RFC 4235) subscriptions through engine + sip-core + rtpengine +
 * PostgreSQL, every party a sipp: carol watches bob while bob registers, unregisters and takes a call
 * from alice; mallory, a subscriber of another customer, is refused.
 */

const SCENARIOS = fileURLToPath(new URL('../sipp/presence/', import.meta.url));
const scenario = (name: string): string => `${SCENARIOS}${name}`;

let stack: CallStack;

beforeAll(async () => {
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret', carol: 'carol-secret' },
    { ringTimeout: 10 },
    async (db, tenant) => {
      // Same domain, another customer.
      const other = await db.db.prisma.customer.create({ data: { name: 'other customer' } });
      await db.db.prisma.subscriber.create({
        data: {
          customerId: other.id,
          domainId: tenant.domainId,
          username: 'mallory',
          ...sipHa1('mallory', DOMAIN, 'mallory-secret'),
        },
      });
    },
  );
}, 60_000);

afterAll(() => closeCallStack(stack), 30_000);

/** Bounded wait (10 s) until sip-core holds `count` subscriptions. */
async function subscriptions(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (stack.sipCore.presence.store.size !== count) {
    if (Date.now() > deadline)
      throw new Error(`expected ${count} subscriptions, have ${stack.sipCore.presence.store.size}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** carol's watcher sipp of `presentity`, started and waited for until its subscription is active. */
async function watch(file: string, presentity = 'bob') {
  const watcher = runSipp({
    scenario: scenario(file),
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('carol', 'carol-secret', presentity),
    authUri: `${presentity}@${DOMAIN}`,
    timeoutS: 30,
  });
  await subscriptions(1);
  return watcher;
}

describeOnEngine(onEngine('presence and dialog subscriptions'), () => {
  it('presence: closed, open on REGISTER, closed on unREGISTER, terminated on unsubscribe', async () => {
    const watcher = await watch('uac-subscribe-presence.xml');
    expect(stack.sipCore.presenceStatus(stack.subscribers.get('bob') ?? '', `sip:bob@${DOMAIN}`)).toBe(
      'offline',
    );
    await registerWithSipp(stack, 'bob', 'bob-secret');
    expect(stack.sipCore.presenceStatus(stack.subscribers.get('bob') ?? '', `sip:bob@${DOMAIN}`)).toBe(
      'online',
    );
    const unregister = runSipp({
      scenario: scenario('unregister-all.xml'),
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: ['bob', '[authentication username=bob password=bob-secret]', DOMAIN],
      authUri: DOMAIN,
    });
    expectSippOk(await unregister.done, 'unregister bob');
    expectSippOk(await watcher.done, 'presence watcher');
    await subscriptions(0);
  });

  it('dialog: trying, early, confirmed and terminated NOTIFYs while bob takes a call', async () => {
    const bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
    const watcher = await watch('uac-subscribe-dialog.xml');
    const callee = runSipp({ scenario: 'uas-answer.xml', port: bobPort, timeoutS: 20 });
    await callee.listening();
    const caller = runSipp({
      scenario: 'uac-call-bye.xml',
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: callFields('alice', 'alice-secret', 'bob'),
      authUri: `bob@${DOMAIN}`,
      timeoutS: 20,
    });
    const [callerResult, calleeResult] = await Promise.all([caller.done, callee.done]);
    expectSippOk(callerResult, 'alice calls bob');
    expectSippOk(calleeResult, 'bob answers');
    expectSippOk(await watcher.done, 'dialog watcher');
    await subscriptions(0);
  });

  it('presence: a PUBLISHed document replaces the derived state until it is removed', async () => {
    const watcher = await watch('uac-subscribe-published.xml', 'alice');
    const publisher = runSipp({
      scenario: scenario('uac-publish.xml'),
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: ['alice', '[authentication username=alice password=alice-secret]', DOMAIN],
      authUri: `alice@${DOMAIN}`,
    });
    expectSippOk(await publisher.done, 'alice publishes');
    expectSippOk(await watcher.done, 'presence watcher of alice');
    await subscriptions(0);
  });

  it('a watcher of another customer gets 403; an unknown event package 489', async () => {
    const forbidden = runSipp({
      scenario: scenario('uac-subscribe-forbidden.xml'),
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: [...callFields('mallory', 'mallory-secret', 'bob'), 'dialog'],
      authUri: `bob@${DOMAIN}`,
    });
    expectSippOk(await forbidden.done, 'mallory watches bob');
    const badEvent = runSipp({
      scenario: scenario('uac-subscribe-bad-event.xml'),
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: [...callFields('carol', 'carol-secret', 'bob'), 'conference'],
      authUri: `bob@${DOMAIN}`,
    });
    expectSippOk(await badEvent.done, 'carol asks for an unknown package');
    expect(stack.sipCore.presence.store.size).toBe(0);
  });

  it('an interval below the minimum is 423; the operator setting lets watchers across customers', async () => {
    const brief = runSipp({
      scenario: scenario('uac-subscribe-brief.xml'),
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: [...callFields('carol', 'carol-secret', 'bob'), 'presence'],
      authUri: `bob@${DOMAIN}`,
    });
    expectSippOk(await brief.done, 'carol asks for 10 s');

    const prisma = stack.testDb.db.prisma;
    await prisma.setting.create({ data: { id: 'presence.acrossCustomers', value: true } });
    const deadline = Date.now() + 10_000;
    while (!stack.sipCore.config.presence.acrossCustomers) {
      if (Date.now() > deadline) throw new Error('the setting was not applied');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const across = runSipp({
      scenario: scenario('uac-subscribe-once.xml'),
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: callFields('mallory', 'mallory-secret', 'bob'),
      authUri: `bob@${DOMAIN}`,
    });
    expectSippOk(await across.done, 'mallory watches bob once allowed');
    await prisma.setting.delete({ where: { id: 'presence.acrossCustomers' } });
  });
});
