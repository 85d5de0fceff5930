import type { PrismaClient } from '@switchboard/db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addOutboundRewrite, addPrimaryNumber } from './support/provision.ts';
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
 * The session border controller beyond the first INVITE (docs/sbc.md), with sipp as alice's and
 * bob's phones and as one carrier (group `dialog`, +4960…, on 127.0.0.36, topology hiding off so that
 * the phones' custom headers would cross):
 * - header rules bound (outbound) to the group run on in-dialog requests towards the carrier by their
 *   method: `X-Trunk: a` added to INVITEs (the re-INVITE too), `X-Internal` removed from BYEs only;
 *   on a call to the carrier (alice calls it) and on a call from it (it calls bob's DID);
 * - topology hiding in the dialog: neither re-INVITE nor BYE carries the phone's Call-ID, Via branch,
 *   Contact or a Record-Route;
 * - codec policy on the carrier's own offer: its gateway strips G729, so bob's phone is offered the
 *   carrier's PCMU and PCMA without it.
 */

let stack: CallStack;
let bobPort: number;
let carrierPort: number;
const carrierHost = '127.0.0.36';
const ids: Record<string, string> = {};

async function provision(
  db: CallStack['testDb'],
  tenant: CallStack['tenant'],
  subscribers: Map<string, string>,
): Promise<void> {
  const prisma: PrismaClient = db.db.prisma;
  await addPrimaryNumber(prisma, subscribers.get('alice') ?? '', '+4930111111');
  await addPrimaryNumber(prisma, subscribers.get('bob') ?? '', '+4930222222');
  await addOutboundRewrite(prisma, tenant.domainId);
  const group = await prisma.peeringGroup.create({ data: { name: 'dialog' } });
  const gateway = await prisma.peerGateway.create({
    data: { groupId: group.id, name: 'dialog', host: carrierHost, port: carrierPort, priority: 1 },
  });
  await prisma.peeringRule.create({ data: { groupId: group.id, calleePrefix: '4960' } });
  ids.gateway = gateway.id;
  await prisma.peerPolicy.create({
    data: { gatewayId: gateway.id, topologyHiding: false, codecStrip: ['G729'] },
  });
  const rules = await prisma.headerRuleSet.create({
    data: {
      name: 'carrier-dialog',
      rules: {
        create: [
          { priority: 10, action: 'remove_header', targetHeader: 'X-Internal', method: 'BYE' },
          { priority: 20, action: 'add_header', targetHeader: 'X-Trunk', value: 'a', method: 'INVITE' },
        ],
      },
    },
  });
  await prisma.headerRuleBinding.create({
    data: { ruleSetId: rules.id, direction: 'outbound', peeringGroupId: group.id },
  });
}

beforeAll(async () => {
  carrierPort = await allocatePort();
  stack = await startCallStack({ alice: 'alice-secret', bob: 'bob-secret' }, { ringTimeout: 10 }, provision);
  bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
}, 60_000);

afterAll(() => closeCallStack(stack), 30_000);

describeOnEngine(onEngine('session border controller in the dialog'), () => {
  it("a call to the carrier: its re-INVITE and BYE get the rules of their method, nothing of alice's dialog", async () => {
    const before = await stack.testDb.db.prisma.cdr.count();
    const carrier = runSipp({
      scenario: 'uas-gateway-dialog.xml',
      port: carrierPort,
      localIp: carrierHost,
      timeoutS: 15,
      traceErrors: true,
    });
    await carrier.listening();
    const callee = '+4960555123';
    const alice = runSipp({
      scenario: 'uac-call-sbc-dialog.xml',
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: callFields('alice', 'alice-secret', callee),
      authUri: `${callee}@example.test`,
      timeoutS: 15,
      extraArgs: ['-cid_str', 'sbc-caller-%u-%p@%s'],
    });
    const [a, c] = await Promise.all([alice.done, carrier.done]);
    expectSippOk(a, 'alice');
    expectSippOk(c, 'carrier');
    expect(await completedCdr(stack, before)).toMatchObject({
      disposition: 'answered',
      peerGatewayId: ids.gateway,
    });
  }, 40_000);

  it("a call from the carrier: bob is offered its codecs but G729; bob's re-INVITE and BYE reach it by the rules", async () => {
    const before = await stack.testDb.db.prisma.cdr.count();
    const bob = runSipp({
      scenario: 'uas-answer-dialog.xml',
      port: bobPort,
      timeoutS: 15,
      traceErrors: true,
    });
    await bob.listening();
    const carrier = runSipp({
      scenario: 'uac-peer-call-dialog.xml',
      port: await allocatePort(),
      localIp: carrierHost,
      remote: stack.sipAddress,
      fields: ['+4915100000', 'unused', 'example.test', '+4930222222'],
      timeoutS: 15,
      traceErrors: true,
    });
    const [c, b] = await Promise.all([carrier.done, bob.done]);
    expectSippOk(c, 'carrier');
    expectSippOk(b, 'bob');
    expect(await completedCdr(stack, before)).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      calleeSubscriberId: stack.subscribers.get('bob'),
      peerGatewayId: ids.gateway,
    });
  }, 40_000);
});
