import { waitForUdpListener } from '@switchboard/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { allocatePort, runSipp, stopAllSipp } from './support/sipp.ts';
import { type CallStack, callFields, DOMAIN, registerWithSipp, startCallStack } from './support/stack.ts';

/**
 * sip-core loses its engine connection while a call rings: the ring timeout must still end the call
 * (CDR no_answer), also when the CANCEL to the callee can no longer be sent.
 */

let stack: CallStack;

beforeAll(async () => {
  stack = await startCallStack({ alice: 'alice-secret', bob: 'bob-secret' }, { ringTimeout: 5 });
}, 60_000);

afterAll(async () => {
  stopAllSipp();
  await stack?.close();
}, 30_000);

describeOnEngine(onEngine('engine connection lost'), () => {
  it('a ringing call still ends at its ring timeout, with its CDR', async () => {
    const bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
    runSipp({ scenario: 'uas-ring.xml', port: bobPort, timeoutS: 20 });
    // Until bob's sipp listens, the INVITE to it would fail at once instead of ringing.
    await waitForUdpListener(bobPort);
    runSipp({
      scenario: 'uac-call-rejected.xml',
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: callFields('alice', 'alice-secret', 'bob'),
      authUri: `bob@${DOMAIN}`,
      timeoutS: 20,
    });
    // Bounded waits on the call's own state, not on time.
    for (let i = 0; i < 100 && stack.sipCore.activeCalls()[0]?.state !== 'early'; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stack.sipCore.activeCalls()[0]?.state).toBe('early');
    // Disconnects from the engine; the ring timer is still pending.
    await stack.sipCore.close();
    for (let i = 0; i < 100 && stack.sipCore.activeCalls().length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stack.sipCore.activeCalls()).toEqual([]);
    let cdr = await stack.testDb.db.prisma.cdr.findFirst();
    for (let i = 0; i < 50 && cdr?.sipReason === IN_PROGRESS; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      cdr = await stack.testDb.db.prisma.cdr.findFirst();
    }
    expect(cdr).toMatchObject({ disposition: 'no_answer', sipCode: 480 });
  });
});
