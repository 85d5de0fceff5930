import type { PrismaClient } from '@switchboard/db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addOutboundRewrite, addPrimaryNumber } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import { type CallStack, closeCallStack, completedCdr, startCallStack } from './support/stack.ts';

/**
 * Inbound header rules on a peer's in-dialog requests (docs/sbc.md, "In the dialog"), with sipp as two
 * carriers: carrier A (group `a`, 127.0.0.38) calls bob's DID, bob forwards every call to +4960555123,
 * which LCR sends to carrier B (group `b`, 127.0.0.39, topology hiding off, no rules of its own). A's
 * group has inbound rules: `X-Carrier: a` added to INVITEs, `X-Internal` removed from BYEs. A puts the
 * call on hold and hangs up, both requests carrying `X-Internal: node-7` and `X-Custom: keep`: B's
 * re-INVITE must carry X-Carrier, X-Internal and X-Custom, its BYE X-Custom only (so the missing
 * X-Internal is the BYE rule's doing), and nothing of A's dialog. The other way, with inbound
 * rules of the same kind on B's group (`X-Carrier: b`) and topology hiding off towards A: B puts the
 * call on hold and hangs up, and A gets what B's rules leave.
 */

let stack: CallStack;
let carrierBPort: number;
const carrierA = '127.0.0.38';
const carrierB = '127.0.0.39';
const ids: Record<string, string> = {};

async function provision(
  db: CallStack['testDb'],
  tenant: CallStack['tenant'],
  subscribers: Map<string, string>,
): Promise<void> {
  const prisma: PrismaClient = db.db.prisma;
  const bob = subscribers.get('bob') ?? '';
  await addPrimaryNumber(prisma, bob, '+4930222222');
  await addOutboundRewrite(prisma, tenant.domainId);
  await prisma.callForward.create({
    data: {
      subscriberId: bob,
      type: 'cfu',
      destinations: { create: [{ kind: 'number', destination: '+4960555123', position: 0 }] },
    },
  });
  const groupA = await prisma.peeringGroup.create({ data: { name: 'a' } });
  const gatewayA = await prisma.peerGateway.create({
    data: { groupId: groupA.id, name: 'a', host: carrierA, port: 5060, priority: 1 },
  });
  ids.gatewayA = gatewayA.id;
  const groupB = await prisma.peeringGroup.create({ data: { name: 'b' } });
  const gatewayB = await prisma.peerGateway.create({
    data: { groupId: groupB.id, name: 'b', host: carrierB, port: carrierBPort, priority: 1 },
  });
  ids.gatewayB = gatewayB.id;
  await prisma.peeringRule.create({ data: { groupId: groupB.id, calleePrefix: '4960' } });
  await prisma.peerPolicy.create({ data: { gatewayId: gatewayB.id, topologyHiding: false } });
  const rules = await prisma.headerRuleSet.create({
    data: {
      name: 'carrier-a-in',
      rules: {
        create: [
          { priority: 10, action: 'remove_header', targetHeader: 'X-Internal', method: 'BYE' },
          { priority: 20, action: 'add_header', targetHeader: 'X-Carrier', value: 'a', method: 'INVITE' },
        ],
      },
    },
  });
  await prisma.headerRuleBinding.create({
    data: { ruleSetId: rules.id, direction: 'inbound', peeringGroupId: groupA.id },
  });
  // The other way: B's own re-INVITE and BYE, by B's group's inbound rules, to A (hiding off).
  await prisma.peerPolicy.create({ data: { gatewayId: gatewayA.id, topologyHiding: false } });
  const rulesB = await prisma.headerRuleSet.create({
    data: {
      name: 'carrier-b-in',
      rules: {
        create: [
          { priority: 10, action: 'remove_header', targetHeader: 'X-Internal', method: 'BYE' },
          { priority: 20, action: 'add_header', targetHeader: 'X-Carrier', value: 'b', method: 'INVITE' },
        ],
      },
    },
  });
  await prisma.headerRuleBinding.create({
    data: { ruleSetId: rulesB.id, direction: 'inbound', peeringGroupId: groupB.id },
  });
}

beforeAll(async () => {
  carrierBPort = await allocatePort();
  stack = await startCallStack({ bob: 'bob-secret' }, { ringTimeout: 10 }, provision);
}, 60_000);

afterAll(() => closeCallStack(stack), 30_000);

describeOnEngine(onEngine('inbound header rules in the dialog'), () => {
  it("carrier A's re-INVITE and BYE reach carrier B as A's inbound rules for their method leave them", async () => {
    const before = await stack.testDb.db.prisma.cdr.count();
    const b = runSipp({
      scenario: 'uas-gateway-inbound-rules.xml',
      port: carrierBPort,
      localIp: carrierB,
      timeoutS: 15,
      traceErrors: true,
    });
    await b.listening();
    const a = runSipp({
      scenario: 'uac-peer-call-inbound-rules.xml',
      port: await allocatePort(),
      localIp: carrierA,
      remote: stack.sipAddress,
      fields: ['+4915100000', 'unused', 'example.test', '+4930222222'],
      timeoutS: 15,
      traceErrors: true,
      extraArgs: ['-cid_str', 'inbound-rules-%u-%p@%s'],
    });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expectSippOk(ra, 'carrier A');
    expectSippOk(rb, 'carrier B');
    expect(await completedCdr(stack, before)).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      peerGatewayId: ids.gatewayB,
      forwardType: 'cfu',
    });
  }, 40_000);

  it("carrier B's re-INVITE and BYE reach carrier A as B's inbound rules for their method leave them", async () => {
    const before = await stack.testDb.db.prisma.cdr.count();
    const b = runSipp({
      scenario: 'uas-gateway-reinvite.xml',
      port: carrierBPort,
      localIp: carrierB,
      timeoutS: 15,
      traceErrors: true,
    });
    await b.listening();
    const a = runSipp({
      scenario: 'uac-peer-call-answered-rules.xml',
      port: await allocatePort(),
      localIp: carrierA,
      remote: stack.sipAddress,
      fields: ['+4915100000', 'unused', 'example.test', '+4930222222'],
      timeoutS: 15,
      traceErrors: true,
    });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expectSippOk(ra, 'carrier A');
    expectSippOk(rb, 'carrier B');
    expect(await completedCdr(stack, before)).toMatchObject({ disposition: 'answered', forwardType: 'cfu' });
  }, 40_000);
});
