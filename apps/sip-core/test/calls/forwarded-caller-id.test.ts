import { afterAll, beforeAll, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addCarrier, addOutboundRewrite, addPrimaryNumber } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import { type CallStack, callFields, closeCallStack, DOMAIN, startCallStack } from './support/stack.ts';

/**
 * `calls.forwardedCallerId = 'forwarder'`: a call forwarded to the PSTN presents the forwarding
 * subscriber, as before the original caller was presented (forwarding.test.ts covers the default).
 * pia (+4930666666) calls henry (+4930444444), whose CFU goes to a PSTN number; the sipp gateway
 * checks henry's number in P-Asserted-Identity and the Diversion.
 */

let stack: CallStack;
let gateway: number;
/** The gateway's own address (an IP host makes every request from it a peer's). */
const GATEWAY_IP = '127.0.0.19';

beforeAll(async () => {
  gateway = await allocatePort();
  stack = await startCallStack(
    { pia: 'pia-secret', henry: 'henry-secret' },
    { ringTimeout: 10, forwardedCallerId: 'forwarder' },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      const id = (name: string): string => subscribers.get(name) ?? '';
      for (const [name, subscriberNumber] of [
        ['pia', '666666'],
        ['henry', '444444'],
      ] as const)
        await addPrimaryNumber(prisma, id(name), `+4930${subscriberNumber}`);
      await addOutboundRewrite(prisma, tenant.domainId);
      await addCarrier(prisma, [{ name: 'gw', host: GATEWAY_IP, port: gateway, priority: 1 }]);
      await prisma.callForward.create({
        data: {
          subscriberId: id('henry'),
          type: 'cfu',
          destinations: { create: [{ kind: 'number', destination: '+49 30 999888', position: 0 }] },
        },
      });
    },
  );
}, 90_000);

afterAll(() => closeCallStack(stack), 30_000);

describeOnEngine(onEngine("forwardedCallerId 'forwarder'"), () => {
  it("presents the forwarding subscriber's number, not the caller's", async () => {
    const prisma = stack.testDb.db.prisma;
    const before = await prisma.cdr.count();
    const gw = runSipp({
      scenario: 'uas-gateway-diverted.xml',
      port: gateway,
      localIp: GATEWAY_IP,
      timeoutS: 30,
    });
    await gw.listening();
    const pia = runSipp({
      scenario: 'uac-call-bye.xml',
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: callFields('pia', 'pia-secret', 'henry'),
      authUri: `henry@${DOMAIN}`,
      timeoutS: 30,
    });
    const [p, g] = await Promise.all([pia.done, gw.done]);
    expectSippOk(p, 'pia');
    expectSippOk(g, 'gateway');
    let cdr = null;
    for (let i = 0; i < 100 && !cdr; i++) {
      const row = await prisma.cdr.findFirst({ orderBy: { createdAt: 'desc' } });
      if (row && row.sipReason !== IN_PROGRESS && (await prisma.cdr.count()) > before) cdr = row;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(cdr).toMatchObject({
      disposition: 'answered',
      callerRouted: '+4930444444',
      calleeRouted: '004930999888',
      forwardType: 'cfu',
    });
  }, 60_000);
});
