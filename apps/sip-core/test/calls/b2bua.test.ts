import { CALL_CONTROL_CHANNEL } from '@switchboard/db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import {
  aliceCallsBob,
  type CallStack,
  closeCallStack,
  completedCdr,
  hangUpHeld,
  holdCall,
  registerWithSipp,
  startCallStack,
  untilLimits,
} from './support/stack.ts';

/**
 * Subscriber to subscriber through engine + sip-core + rtpengine + PostgreSQL: sipp plays alice (the
 * caller, digest-authenticated with 407) and bob (a registered UAS); each outcome's CDR is checked.
 */

let stack: CallStack;
let bobPort: number;

beforeAll(async () => {
  stack = await startCallStack({ alice: 'alice-secret', bob: 'bob-secret' }, { ringTimeout: 2 });
  bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
}, 60_000);

afterAll(() => closeCallStack(stack), 30_000);

/** Runs bob's UAS scenario and alice's UAC scenario; returns the call's completed CDR. */
const call = (uas: string | undefined, uac: string) => aliceCallsBob(stack, bobPort, uac, uas);

describeOnEngine(onEngine('subscriber to subscriber'), () => {
  it('answered, caller hangs up: media anchored both ways, CDR answered with a duration', async () => {
    const cdr = await call('uas-answer.xml', 'uac-call-bye.xml');
    expect(cdr).toMatchObject({
      direction: 'internal',
      disposition: 'answered',
      sipCode: 200,
      sipReason: 'Caller hung up',
      callerSubscriberId: stack.subscribers.get('alice'),
      calleeSubscriberId: stack.subscribers.get('bob'),
      callerRouted: 'sip:alice@example.test',
      calleeRouted: 'sip:bob@example.test',
      node: 'calls-test',
    });
    expect(cdr.answeredAt).not.toBeNull();
    expect(cdr.durationMs).toBeGreaterThan(0);
    expect(cdr.bLegId).not.toBeNull();
    expect(cdr.bLegId).not.toBe(cdr.aLegId);
    expect(cdr.mediaStats).toBeTypeOf('object');
    expect(stack.sipCore.activeCalls()).toEqual([]);
  });

  it('answered, callee hangs up', async () => {
    const cdr = await call('uas-answer-hangup.xml', 'uac-call-wait-bye.xml');
    expect(cdr).toMatchObject({ disposition: 'answered', sipCode: 200, sipReason: 'Callee hung up' });
  });

  it('hold: a re-INVITE from the caller reaches the callee through the relay and is answered', async () => {
    const cdr = await call('uas-answer-hold.xml', 'uac-call-hold.xml');
    expect(cdr).toMatchObject({ disposition: 'answered', sipReason: 'Caller hung up' });
  });

  it('a refused hold (re-INVITE, then UPDATE) leaves the media as negotiated: the next offer keeps the relay ports', async () => {
    // Both sipps compare the relay port of the last offer/answer with the first one's (the session is
    // the one negotiated before the refused offers, RFC 3261 §14.1), and the further re-INVITE must get
    // through at all: drachtio-srf kept a refused re-INVITE's slot, which blocked every later one.
    const cdr = await call('uas-answer-refuse-hold.xml', 'uac-call-refused-hold.xml');
    expect(cdr).toMatchObject({ disposition: 'answered', sipCode: 200, sipReason: 'Caller hung up' });
  }, 60_000);

  it('busy: 486 reaches the caller, CDR busy', async () => {
    const cdr = await call('uas-busy.xml', 'uac-call-rejected.xml');
    expect(cdr).toMatchObject({ disposition: 'busy', sipCode: 486, durationMs: 0, answeredAt: null });
  });

  it('decline: 603 reaches the caller, CDR rejected with 603', async () => {
    const cdr = await call('uas-decline.xml', 'uac-call-rejected.xml');
    expect(cdr).toMatchObject({ disposition: 'rejected', sipCode: 603 });
  });

  it('no answer: the callee is cancelled after the ring timeout, the caller gets 480', async () => {
    const cdr = await call('uas-ring.xml', 'uac-call-rejected.xml');
    expect(cdr).toMatchObject({ disposition: 'no_answer', sipCode: 480 });
  });

  it('cancel: the caller cancels while it rings, the callee is cancelled too', async () => {
    const cdr = await call('uas-ring.xml', 'uac-call-cancel.xml');
    expect(cdr).toMatchObject({ disposition: 'cancelled', sipCode: 487 });
  });
});

describeOnEngine(onEngine('limits'), () => {
  const prisma = () => stack.testDb.db.prisma;
  const alice = () => stack.subscribers.get('alice') ?? '';

  it('a subscriber at its concurrent-call limit gets 486, and the refusal has its CDR', async () => {
    await prisma().subscriber.update({ where: { id: alice() }, data: { maxConcurrentCalls: 0 } });
    await untilLimits(stack, alice(), (party) => party.maxConcurrentCalls === 0);
    try {
      const cdr = await call(undefined, 'uac-call-rejected.xml');
      expect(cdr).toMatchObject({
        disposition: 'busy',
        sipCode: 486,
        bLegId: null,
        callerSubscriberId: alice(),
      });
    } finally {
      await prisma().subscriber.update({ where: { id: alice() }, data: { maxConcurrentCalls: null } });
      await untilLimits(stack, alice(), (party) => party.maxConcurrentCalls === null);
    }
  });

  it('a customer at its concurrent-call limit gets 503', async () => {
    const customerId = stack.tenant.customerId;
    await prisma().customer.update({ where: { id: customerId }, data: { maxConcurrentCalls: 0 } });
    await untilLimits(stack, alice(), (party) => party.customer.maxConcurrentCalls === 0);
    try {
      const cdr = await call(undefined, 'uac-call-rejected.xml');
      expect(cdr).toMatchObject({ disposition: 'failed', sipCode: 503, callerCustomerId: customerId });
    } finally {
      await prisma().customer.update({ where: { id: customerId }, data: { maxConcurrentCalls: null } });
      await untilLimits(stack, alice(), (party) => party.customer.maxConcurrentCalls === null);
    }
  });

  it('the maximum call duration ends an answered call with a BYE to both sides', async () => {
    const customerId = stack.tenant.customerId;
    await prisma().customer.update({ where: { id: customerId }, data: { maxCallDuration: 1 } });
    await untilLimits(stack, alice(), (party) => party.customer.maxCallDuration === 1);
    try {
      const cdr = await call('uas-answer.xml', 'uac-call-wait-bye.xml');
      expect(cdr).toMatchObject({ disposition: 'answered', sipReason: 'maximum call duration' });
      expect(cdr.answeredAt).not.toBeNull();
    } finally {
      await prisma().customer.update({ where: { id: customerId }, data: { maxCallDuration: null } });
      await untilLimits(stack, alice(), (party) => party.customer.maxCallDuration === null);
    }
  });

  it('a hang-up request on the call-control channel ends the call with a BYE to both sides', async () => {
    const before = await prisma().cdr.count();
    const held = await holdCall(stack, bobPort, 20);
    // The live view of the answered call: its codec and the relay anchoring it.
    let live = stack.sipCore.activeCalls();
    for (let i = 0; i < 100 && live[0]?.state !== 'answered'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      live = stack.sipCore.activeCalls();
    }
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ state: 'answered', codecs: [expect.stringMatching(/^PCM[AU]\/8000$/)] });
    expect(live[0]!.relay).toMatch(/^127\.0\.0\.1:\d+$/);
    // Another node's call (an unknown Call-ID) is ignored; this node's call ends.
    await prisma()
      .$executeRaw`SELECT pg_notify(${CALL_CONTROL_CHANNEL}, ${JSON.stringify({ callId: 'not-on-this-node' })})`;
    await hangUpHeld(stack, live[0]!.callId, held);
    expect(await completedCdr(stack, before)).toMatchObject({
      disposition: 'answered',
      sipReason: 'Hung up through the API',
    });
    expect(stack.sipCore.activeCalls()).toEqual([]);
  });
});
