import { afterAll, beforeAll, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addCarrier, addOutboundRewrite, addPrimaryNumber } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import {
  type CallStack,
  callFields,
  closeCallStack,
  completedCdr,
  registerWithSipp,
  startCallStack,
} from './support/stack.ts';

/**
 * To the phone network: alice dials +4930555123, which is not ours. LCR picks two gateways (sipp
 * UAS on their own loopback addresses: a gateway's IP-literal host makes its address a peer, so it
 * must not be the phones' 127.0.0.1); the first answers 503, the call fails over to the second,
 * which must see the number as the outbound rewrite rule made it (00 international prefix) and
 * alice's primary number asserted.
 */

let stack: CallStack;
let gateway1: number;
let gateway2: number;
let bobPort: number;
const ids: Record<string, string> = {};

beforeAll(async () => {
  gateway1 = await allocatePort();
  gateway2 = await allocatePort();
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret' },
    { ringTimeout: 10 },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      await addPrimaryNumber(prisma, subscribers.get('alice') ?? '', '+4930111111');
      await addOutboundRewrite(prisma, tenant.domainId);
      Object.assign(
        ids,
        await addCarrier(prisma, [
          { name: 'gw1', host: '127.0.0.7', port: gateway1, priority: 1 },
          { name: 'gw2', host: '127.0.0.8', port: gateway2, priority: 2 },
        ]),
      );
      await addPrimaryNumber(prisma, subscribers.get('bob') ?? '', '+4930222222');
    },
    {
      // The peer: another loopback address, trusted without digest.
      trustedSources: ['127.0.0.2'],
    },
  );
  bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
}, 60_000);

afterAll(() => closeCallStack(stack), 30_000);

describeOnEngine(onEngine('to the PSTN'), () => {
  it('fails over from a 503 gateway to the next, with the rewritten number and caller ID', async () => {
    const first = runSipp({
      scenario: 'uas-unavailable.xml',
      port: gateway1,
      localIp: '127.0.0.7',
      timeoutS: 20,
    });
    const second = runSipp({
      scenario: 'uas-gateway.xml',
      port: gateway2,
      localIp: '127.0.0.8',
      timeoutS: 20,
    });
    await Promise.all([first.listening(), second.listening()]);
    const caller = runSipp({
      scenario: 'uac-call-bye.xml',
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: callFields('alice', 'alice-secret', '+4930555123'),
      authUri: '+4930555123@example.test',
      timeoutS: 20,
    });
    const [a, g1, g2] = await Promise.all([caller.done, first.done, second.done]);
    expectSippOk(a, 'caller');
    expectSippOk(g1, 'gateway 1');
    expectSippOk(g2, 'gateway 2');
    let cdr = null;
    for (let i = 0; i < 100; i++) {
      cdr = await stack.testDb.db.prisma.cdr.findFirst({ where: { sipReason: { not: IN_PROGRESS } } });
      if (cdr) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(cdr).toMatchObject({
      direction: 'outbound',
      disposition: 'answered',
      calleeRouted: '004930555123',
      callerRouted: '+4930111111',
      peerGatewayId: ids.gw2,
    });
  });

  it('a number no carrier routes gets 404 and is recorded as an outbound attempt', async () => {
    const before = await stack.testDb.db.prisma.cdr.count();
    const caller = runSipp({
      scenario: 'uac-call-rejected.xml',
      port: await allocatePort(),
      remote: stack.sipAddress,
      // +33: not ours, and the carrier's only rule routes 49.
      fields: callFields('alice', 'alice-secret', '+33123456789'),
      authUri: '+33123456789@example.test',
      timeoutS: 20,
    });
    expectSippOk(await caller.done, 'caller');
    expect(await completedCdr(stack, before)).toMatchObject({
      direction: 'outbound',
      disposition: 'failed',
      sipCode: 404,
      sipReason: 'No Route',
      callerSubscriberId: stack.subscribers.get('alice'),
    });
  });
});

describeOnEngine(onEngine('from the PSTN'), () => {
  it("a trusted peer calls a DID without digest and the subscriber's registered device answers", async () => {
    const before = await stack.testDb.db.prisma.cdr.count();
    const bob = runSipp({ scenario: 'uas-answer.xml', port: bobPort, timeoutS: 20 });
    await bob.listening();
    const peer = runSipp({
      scenario: 'uac-peer-call.xml',
      port: await allocatePort(),
      localIp: '127.0.0.2',
      remote: stack.sipAddress,
      fields: ['+4915100000', 'unused', 'example.test', '+4930222222'],
      timeoutS: 20,
    });
    const [p, b] = await Promise.all([peer.done, bob.done]);
    expectSippOk(p, 'peer');
    expectSippOk(b, 'bob');
    let cdr = null;
    for (let i = 0; i < 100 && !cdr; i++) {
      const rows = await stack.testDb.db.prisma.cdr.findMany({ where: { direction: 'inbound' } });
      if (
        rows.length > 0 &&
        (await stack.testDb.db.prisma.cdr.count()) > before &&
        rows[0]?.sipReason !== IN_PROGRESS
      )
        cdr = rows[0];
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(cdr).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      calleeSubscriberId: stack.subscribers.get('bob'),
      calleeRouted: 'sip:bob@example.test',
      callerSubscriberId: null,
    });
  });
});
