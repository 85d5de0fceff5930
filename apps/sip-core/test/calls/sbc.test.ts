import type { PrismaClient } from '@switchboard/db';
import { createMetricsRegistry, renderMetrics } from '@switchboard/metrics';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
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
 * The session border controller towards carriers (docs/sbc.md), with sipp as alice's phone and as
 * three carriers on their own loopback addresses, each in a peering group of its own:
 * - `open` (+4930…): topology hiding off; a header rule set on its group removes X-Internal and adds
 *   `X-Trunk: a`; the caller's other custom header and User-Agent pass;
 * - `hidden` (+4940…): topology hiding on (the default), same rules: nothing of the caller's side
 *   but what the rules add reaches the carrier;
 * - `limited` (+4950…): at most 2 concurrent calls; the third is refused with 503 and Retry-After.
 * Every carrier checks the caller's Call-ID, Via, Contact and any Record-Route are absent. And from
 * the `open` carrier's address, inbound rules turn its own number format into bob's DID and add a
 * Privacy header that the platform then honours.
 */

let stack: CallStack;
let bobPort: number;
const registry = createMetricsRegistry({ process: false });
const ports = { open: 0, hidden: 0, limited: 0 };
const hosts = { open: '127.0.0.31', hidden: '127.0.0.32', limited: '127.0.0.33' };
const ids: Record<string, string> = {};

async function addGroup(prisma: PrismaClient, name: keyof typeof hosts, prefix: string): Promise<void> {
  const group = await prisma.peeringGroup.create({ data: { name } });
  const gateway = await prisma.peerGateway.create({
    data: { groupId: group.id, name, host: hosts[name], port: ports[name], priority: 1 },
  });
  await prisma.peeringRule.create({ data: { groupId: group.id, calleePrefix: prefix } });
  ids[`${name}Group`] = group.id;
  ids[name] = gateway.id;
}

/** Carriers, their rules and policies, written before sip-core starts (it loads them once). */
async function provision(
  db: CallStack['testDb'],
  tenant: CallStack['tenant'],
  subscribers: Map<string, string>,
) {
  const prisma = db.db.prisma;
  await addPrimaryNumber(prisma, subscribers.get('alice') ?? '', '+4930111111');
  await addPrimaryNumber(prisma, subscribers.get('bob') ?? '', '+4930222222');
  await addOutboundRewrite(prisma, tenant.domainId);
  await addGroup(prisma, 'open', '4930');
  await addGroup(prisma, 'hidden', '4940');
  await addGroup(prisma, 'limited', '4950');
  const rules = await prisma.headerRuleSet.create({
    data: {
      name: 'carrier-headers',
      rules: {
        create: [
          { priority: 10, action: 'remove_header', targetHeader: 'X-Internal' },
          { priority: 20, action: 'add_header', targetHeader: 'X-Trunk', value: 'a', method: 'INVITE' },
        ],
      },
    },
  });
  for (const group of ['openGroup', 'hiddenGroup'])
    await prisma.headerRuleBinding.create({
      data: { ruleSetId: rules.id, direction: 'outbound', peeringGroupId: ids[group] ?? '' },
    });
  await prisma.peerPolicy.create({ data: { gatewayId: ids.open ?? '', topologyHiding: false } });
  await prisma.peerPolicy.create({ data: { gatewayId: ids.limited ?? '', maxConcurrentCalls: 2 } });
  const inbound = await prisma.headerRuleSet.create({
    data: {
      name: 'from-carrier',
      rules: {
        create: [
          { priority: 10, action: 'set_ruri_user', matchPattern: '^local-([0-9]+)$', value: '+4930$1' },
          {
            priority: 20,
            action: 'add_header',
            targetHeader: 'Privacy',
            value: 'id',
            sourceAddress: '127.0.0.0/24',
          },
        ],
      },
    },
  });
  await prisma.headerRuleBinding.create({
    data: { ruleSetId: inbound.id, direction: 'inbound', gatewayId: ids.open ?? '' },
  });
}

beforeAll(async () => {
  ports.open = await allocatePort();
  ports.hidden = await allocatePort();
  ports.limited = await allocatePort();
  const users = { alice: 'alice-secret', bob: 'bob-secret' };
  stack = await startCallStack(users, { ringTimeout: 10 }, provision, {
    metrics: registry,
  });
  bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
}, 60_000);

afterAll(() => closeCallStack(stack), 30_000);

async function callThrough(carrier: keyof typeof hosts, scenario: string, callee: string): Promise<void> {
  const gateway = runSipp({
    scenario,
    port: ports[carrier],
    localIp: hosts[carrier],
    timeoutS: 12,
    traceErrors: true,
  });
  await gateway.listening();
  const caller = runSipp({
    scenario: 'uac-call-sbc.xml',
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('alice', 'alice-secret', callee),
    authUri: `${callee}@example.test`,
    timeoutS: 12,
    // A Call-ID the carriers look for: it must not reach them.
    extraArgs: ['-cid_str', 'sbc-caller-%u-%p@%s'],
  });
  const [a, g] = await Promise.all([caller.done, gateway.done]);
  expectSippOk(a, 'caller');
  expectSippOk(g, `carrier ${carrier}`);
}

describeOnEngine(onEngine('session border controller'), () => {
  it("header rules run towards the carrier; with topology hiding off the caller's custom headers pass", async () => {
    const before = await stack.testDb.db.prisma.cdr.count();
    await callThrough('open', 'uas-gateway-open.xml', '+4930555123');
    expect(await completedCdr(stack, before)).toMatchObject({
      disposition: 'answered',
      peerGatewayId: ids.open,
    });
  }, 30_000);

  it("topology hiding (the default) lets nothing of the caller's side reach the carrier", async () => {
    // Same rules, another group: X-Trunk is the rules' and arrives; X-Custom and User-Agent do not.
    await callThrough('hidden', 'uas-gateway-hidden.xml', '+4940555123');
  }, 30_000);

  it('a gateway at its 2 concurrent calls refuses the third with 503 and Retry-After', async () => {
    const callee = '+4950555123';
    const carrier = runSipp({
      scenario: 'uas-gateway-hold.xml',
      port: ports.limited,
      localIp: hosts.limited,
      calls: 2,
      timeoutS: 12,
    });
    await carrier.listening();
    const held = [];
    for (let i = 0; i < 2; i++)
      held.push(
        runSipp({
          scenario: 'uac-call-wait-bye.xml',
          port: await allocatePort(),
          remote: stack.sipAddress,
          fields: callFields('alice', 'alice-secret', callee),
          authUri: `${callee}@example.test`,
          timeoutS: 12,
        }),
      );
    // Both answered: the gateway counts two calls.
    await vi.waitFor(
      () => {
        const answered = stack.sipCore.activeCalls().filter((c) => c.state === 'answered');
        if (answered.length < 2) throw new Error(`${answered.length} calls answered`);
      },
      { timeout: 10_000, interval: 50 },
    );
    const before = await stack.testDb.db.prisma.cdr.count({ where: { sipCode: 503 } });
    const third = runSipp({
      scenario: 'uac-call-retry-later.xml',
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: callFields('alice', 'alice-secret', callee),
      authUri: `${callee}@example.test`,
      timeoutS: 12,
    });
    expectSippOk(await third.done, 'third caller');
    const [c, ...callers] = await Promise.all([carrier.done, ...held.map((h) => h.done)]);
    expectSippOk(c, 'carrier limited');
    for (const [i, result] of callers.entries()) expectSippOk(result, `held caller ${i}`);
    await vi.waitFor(
      async () => {
        const refused = await stack.testDb.db.prisma.cdr.count({ where: { sipCode: 503 } });
        if (refused <= before) throw new Error('no 503 CDR yet');
      },
      { timeout: 10_000, interval: 100 },
    );
    const metrics = (await renderMetrics(registry)).body;
    expect(metrics).toContain('switchboard_calls_refused_total{scope="gateway",limit="concurrent"} 1');
  }, 30_000);

  it("inbound rules rewrite a peer's Request-URI to a DID and add a Privacy header the platform honours", async () => {
    const before = await stack.testDb.db.prisma.cdr.count();
    const bob = runSipp({ scenario: 'uas-answer-anonymous.xml', port: bobPort, timeoutS: 12 });
    await bob.listening();
    const peer = runSipp({
      scenario: 'uac-peer-call.xml',
      port: await allocatePort(),
      localIp: hosts.open,
      remote: stack.sipAddress,
      // The carrier's own format: not a number of ours until the rule rewrites it.
      fields: ['+4915100000', 'unused', 'example.test', 'local-222222'],
      timeoutS: 12,
    });
    const [p, b] = await Promise.all([peer.done, bob.done]);
    expectSippOk(p, 'peer');
    expectSippOk(b, 'bob');
    expect(await completedCdr(stack, before)).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      calleeSubscriberId: stack.subscribers.get('bob'),
      callerWithheld: true,
      peerGatewayId: ids.open,
    });
  }, 30_000);
});
