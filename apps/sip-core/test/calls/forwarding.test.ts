import { CHANGES_CHANNEL, parseTableChange } from '@switchboard/db';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CallForwards } from '../../src/calls/call-forwards.ts';
import { forwardCause } from '../../src/calls/forwarding.ts';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addCarrier, addOutboundRewrite, addPrimaryNumber } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import {
  type CallStack,
  callFields,
  closeCallStack,
  completedCdr,
  DOMAIN,
  registerWithSipp,
  startCallStack,
  untilLimits,
} from './support/stack.ts';

/**
 * Call forwarding through engine + sip-core + rtpengine + PostgreSQL. alice calls; each forwarding
 * subscriber has one kind of forward (set up before sip-core starts, so its cache holds them):
 * bob CFU -> carol, frank CFB -> carol, gina CFT 2 s -> kim (not registered) then carol,
 * dave CFNA -> carol's number (a DID), lisa CFNA -> carol, henry CFU -> a PSTN number, ivan CFU -> judy CFU -> ivan,
 * olga CFB -> a PSTN number, and a chain m0 -> m1 -> ... -> m5 -> carol of unconditional forwards.
 * carol's UAS checks Diversion and History-Info; the CDR must name the forward.
 */

let stack: CallStack;
const ports: Record<string, number> = {};
let gateway: number;
/** The gateway's own address: a gateway's IP host makes every request from it a peer's, so not the phones'. */
const GATEWAY_IP = '127.0.0.9';

const chain = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
const users = [
  'alice',
  'bob',
  'carol',
  'dave',
  'frank',
  'gina',
  'henry',
  'ivan',
  'judy',
  'kim',
  'lisa',
  'olga',
  'pia',
  'quinn',
  ...chain,
];

beforeAll(async () => {
  gateway = await allocatePort();
  stack = await startCallStack(
    Object.fromEntries(users.map((u) => [u, `${u}-secret`])),
    { ringTimeout: 10 },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      const id = (name: string): string => subscribers.get(name) ?? '';
      const number = (name: string, subscriberNumber: string) =>
        addPrimaryNumber(prisma, id(name), `+4930${subscriberNumber}`);
      await number('bob', '222222');
      await number('carol', '333333');
      await number('henry', '444444');
      await number('olga', '555555');
      await number('pia', '666666');
      await number('quinn', '777777');
      await prisma.subscriber.update({ where: { id: id('quinn') }, data: { clir: true } });
      await addOutboundRewrite(prisma, tenant.domainId);
      await addCarrier(prisma, [{ name: 'gw', host: GATEWAY_IP, port: gateway, priority: 1 }]);
      const forward = (
        name: string,
        type: 'cfu' | 'cfb' | 'cft' | 'cfna',
        destinations: Array<{ kind: 'uri' | 'number'; destination: string; ringTimeout?: number }>,
        ringTimeout?: number,
      ) =>
        prisma.callForward.create({
          data: {
            subscriberId: id(name),
            type,
            ringTimeout: ringTimeout ?? null,
            destinations: { create: destinations.map((d, position) => ({ ...d, position })) },
          },
        });
      await forward('bob', 'cfu', [{ kind: 'uri', destination: `sip:carol@${DOMAIN}` }]);
      await forward('frank', 'cfb', [{ kind: 'uri', destination: `sip:carol@${DOMAIN}` }]);
      await forward(
        'gina',
        'cft',
        [
          { kind: 'uri', destination: `sip:kim@${DOMAIN}` },
          { kind: 'uri', destination: 'carol' },
        ],
        2,
      );
      // A national number in the forwarding subscriber's dial plan that is carol's DID.
      await forward('dave', 'cfna', [{ kind: 'number', destination: '030333333' }]);
      await forward('olga', 'cfb', [{ kind: 'number', destination: '030999777' }]);
      await forward('lisa', 'cfna', [{ kind: 'uri', destination: 'carol' }]);
      await forward('henry', 'cfu', [{ kind: 'number', destination: '+49 30 999888' }]);
      await forward('ivan', 'cfu', [{ kind: 'uri', destination: `sip:judy@${DOMAIN}` }]);
      await forward('judy', 'cfu', [{ kind: 'uri', destination: `sip:ivan@${DOMAIN}` }]);
      // m0 -> m1 -> ... -> m5 -> carol: from m1 five forwards deep (allowed), from m0 six.
      for (const [i, name] of chain.entries())
        await forward(name, 'cfu', [{ kind: 'uri', destination: chain[i + 1] ?? 'carol' }]);
    },
    {
      // A peer on another loopback address, trusted without digest.
      trustedSources: ['127.0.0.2'],
    },
  );
  for (const user of ['bob', 'carol', 'frank', 'gina', 'lisa', 'olga'])
    ports[user] = await registerWithSipp(stack, user, `${user}-secret`);
}, 90_000);

afterAll(() => closeCallStack(stack), 30_000);

/** `from` (alice unless said) calls `callee` with scenario `uac` while the given registered users run their UAS scenarios. */
async function call(
  callee: string,
  uac: string,
  uas: Record<string, string>,
  extra: Array<Promise<unknown>> = [],
  from = 'alice',
) {
  const prisma = stack.testDb.db.prisma;
  const before = await prisma.cdr.count();
  const callees = Object.entries(uas).map(([user, scenario]) => ({
    user,
    run: runSipp({
      scenario,
      port: ports[user] ?? gateway,
      localIp: user === 'gateway' ? GATEWAY_IP : undefined,
      timeoutS: 30,
    }),
  }));
  await Promise.all(callees.map((c) => c.run.listening()));
  const caller = runSipp({
    scenario: uac,
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields(from, `${from}-secret`, callee),
    authUri: `${callee}@${DOMAIN}`,
    timeoutS: 30,
  });
  const results = await Promise.all([caller.done, ...callees.map((c) => c.run.done), ...extra]);
  expectSippOk(results[0] as Awaited<typeof caller.done>, `${from} (${uac})`);
  callees.forEach((c, i) => {
    expectSippOk(results[i + 1] as Awaited<typeof caller.done>, `${c.user} (${uas[c.user]})`);
  });
  // Exactly one row per call attempt, however many destinations the forwards tried.
  return completedCdr(stack, before);
}

const sub = (name: string): string | undefined => stack.subscribers.get(name);

describeOnEngine(onEngine('call forwarding'), () => {
  it("CFU to a subscriber: bob's devices are not rung, carol answers with Diversion and History-Info", async () => {
    const cdr = await call('bob', 'uac-call-bye.xml', { carol: 'uas-answer-diverted.xml' });
    expect(cdr).toMatchObject({
      direction: 'internal',
      disposition: 'answered',
      calleeDialled: `sip:bob@${DOMAIN}`,
      calleeRouted: `sip:carol@${DOMAIN}`,
      calleeSubscriberId: sub('carol'),
      forwardedFrom: `sip:bob@${DOMAIN}`,
      forwardType: 'cfu',
    });
    expect(cdr.mediaStats).toBeTypeOf('object');
    expect(stack.sipCore.activeCalls()).toEqual([]);
  });

  it('CFB: frank answers 486, carol answers', async () => {
    const cdr = await call('frank', 'uac-call-bye.xml', {
      frank: 'uas-busy.xml',
      carol: 'uas-answer-diverted.xml',
    });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeRouted: `sip:carol@${DOMAIN}`,
      forwardedFrom: `sip:frank@${DOMAIN}`,
      forwardType: 'cfb',
    });
  });

  it('CFT: gina rings 2 s and is cancelled; kim (not registered) fails, the next destination carol answers', async () => {
    const cdr = await call('gina', 'uac-call-bye.xml', {
      gina: 'uas-ring.xml',
      carol: 'uas-answer-diverted.xml',
    });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeRouted: `sip:carol@${DOMAIN}`,
      calleeSubscriberId: sub('carol'),
      forwardedFrom: `sip:gina@${DOMAIN}`,
      forwardType: 'cft',
    });
    // Rang 2 s before the forward, not the calls' 10 s ring timeout.
    expect(cdr.answeredAt?.getTime() ?? 0).toBeLessThan(cdr.startedAt.getTime() + 8_000);
  });

  it("CFT after early media: gina's device plays early media (183), carol answers: the caller gets carol's answer", async () => {
    const cdr = await call('gina', 'uac-call-early-then-answer.xml', {
      gina: 'uas-early-media-ring.xml',
      carol: 'uas-answer-diverted.xml',
    });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      sipReason: 'Caller hung up',
      calleeRouted: `sip:carol@${DOMAIN}`,
      forwardedFrom: `sip:gina@${DOMAIN}`,
      forwardType: 'cft',
    });
    expect(cdr.mediaStats).toBeTypeOf('object');
  });

  it("CFNA: dave has no binding, the call goes to carol's DID dialled as a national number", async () => {
    const cdr = await call('dave', 'uac-call-bye.xml', { carol: 'uas-answer-diverted.xml' });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeRouted: `sip:carol@${DOMAIN}`,
      forwardedFrom: `sip:dave@${DOMAIN}`,
      forwardType: 'cfna',
    });
  });

  it("CFNA: lisa's only device answers 503, carol answers", async () => {
    const cdr = await call('lisa', 'uac-call-bye.xml', {
      lisa: 'uas-unavailable.xml',
      carol: 'uas-answer-diverted.xml',
    });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeRouted: `sip:carol@${DOMAIN}`,
      forwardedFrom: `sip:lisa@${DOMAIN}`,
      forwardType: 'cfna',
    });
  });

  it("CFU to a PSTN number: routed by LCR as henry's own call, rewritten, with henry in Diversion", async () => {
    const cdr = await call('henry', 'uac-call-bye.xml', { gateway: 'uas-gateway-diverted.xml' });
    expect(cdr).toMatchObject({
      direction: 'internal',
      disposition: 'answered',
      calleeRouted: '004930999888',
      callerRouted: '+4930444444',
      calleeSubscriberId: null,
      forwardedFrom: `sip:henry@${DOMAIN}`,
      forwardType: 'cfu',
    });
    expect(cdr.peerGatewayId).not.toBeNull();
  });

  it("CFB to a PSTN number: olga's device is busy, the media is re-offered towards the gateway", async () => {
    const cdr = await call('olga', 'uac-call-bye.xml', {
      olga: 'uas-busy.xml',
      gateway: 'uas-gateway-busy-forward.xml',
    });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeRouted: '004930999777',
      callerRouted: '+4930555555',
      forwardedFrom: `sip:olga@${DOMAIN}`,
      forwardType: 'cfb',
    });
    expect(cdr.peerGatewayId).not.toBeNull();
    expect(cdr.mediaStats).toBeTypeOf('object');
  });

  it('a forwarded call counts for the subscriber it reaches: carol at her limit makes it busy', async () => {
    const prisma = stack.testDb.db.prisma;
    const carol = sub('carol') ?? '';
    await prisma.subscriber.update({ where: { id: carol }, data: { maxConcurrentCalls: 0 } });
    await untilLimits(stack, carol, (party) => party.maxConcurrentCalls === 0);
    try {
      const cdr = await call('bob', 'uac-call-rejected.xml', {});
      expect(cdr).toMatchObject({
        disposition: 'busy',
        sipCode: 486,
        calleeRouted: `sip:carol@${DOMAIN}`,
        forwardedFrom: `sip:bob@${DOMAIN}`,
        forwardType: 'cfu',
      });
    } finally {
      await prisma.subscriber.update({ where: { id: carol }, data: { maxConcurrentCalls: null } });
      await untilLimits(stack, carol, (party) => party.maxConcurrentCalls === null);
    }
  });

  it('loop: ivan forwards to judy, judy back to ivan: the caller gets 482', async () => {
    const cdr = await call('ivan', 'uac-call-rejected.xml', {});
    expect(cdr).toMatchObject({
      disposition: 'failed',
      sipCode: 482,
      sipReason: 'Loop Detected',
      answeredAt: null,
      calleeRouted: `sip:ivan@${DOMAIN}`,
      forwardedFrom: `sip:judy@${DOMAIN}`,
      forwardType: 'cfu',
    });
    expect(stack.sipCore.activeCalls()).toEqual([]);
  });
});

describeOnEngine(onEngine('from a peer'), () => {
  it("a call to bob's DID is forwarded to carol, keeping the Diversion and History-Info received", async () => {
    const prisma = stack.testDb.db.prisma;
    const before = await prisma.cdr.count();
    const carol = runSipp({ scenario: 'uas-answer-rediverted.xml', port: ports.carol ?? 0, timeoutS: 30 });
    await carol.listening();
    const peer = runSipp({
      scenario: 'uac-peer-call-diverted.xml',
      port: await allocatePort(),
      localIp: '127.0.0.2',
      remote: stack.sipAddress,
      fields: ['+4915100000', 'unused', DOMAIN, '+4930222222'],
      timeoutS: 30,
    });
    const [p, c] = await Promise.all([peer.done, carol.done]);
    expectSippOk(p, 'peer');
    expectSippOk(c, 'carol');
    let cdr = null;
    for (let i = 0; i < 100 && !cdr; i++) {
      const row = await prisma.cdr.findFirst({ where: { direction: 'inbound' } });
      if (row && row.sipReason !== IN_PROGRESS && (await prisma.cdr.count()) > before) cdr = row;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(cdr).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      calleeRouted: `sip:carol@${DOMAIN}`,
      calleeSubscriberId: sub('carol'),
      forwardedFrom: `sip:bob@${DOMAIN}`,
      forwardType: 'cfu',
    });
  });
});

describeOnEngine(onEngine('caller ID of a forward to the PSTN'), () => {
  it("quinn (CLIR) calls henry, forwarded to the PSTN: quinn's number only asserted, with Privacy: id", async () => {
    const cdr = await call(
      'henry',
      'uac-call-bye.xml',
      { gateway: 'uas-gateway-withheld-caller.xml' },
      [],
      'quinn',
    );
    expect(cdr).toMatchObject({ disposition: 'answered', callerRouted: '+4930777777', forwardType: 'cfu' });
  });

  it("pia (with a number) calls henry, forwarded to the PSTN: the gateway is shown pia's number", async () => {
    const cdr = await call(
      'henry',
      'uac-call-bye.xml',
      { gateway: 'uas-gateway-subscriber-caller.xml' },
      [],
      'pia',
    );
    expect(cdr).toMatchObject({
      direction: 'internal',
      disposition: 'answered',
      callerSubscriberId: sub('pia'),
      callerRouted: '+4930666666',
      calleeRouted: '004930999888',
      forwardedFrom: `sip:henry@${DOMAIN}`,
      forwardType: 'cfu',
    });
  });

  it("a peer's call to henry's DID forwarded to the PSTN presents the original caller, Diversion naming henry", async () => {
    const prisma = stack.testDb.db.prisma;
    const before = await prisma.cdr.count();
    const gw = runSipp({
      scenario: 'uas-gateway-original-caller.xml',
      port: gateway,
      localIp: GATEWAY_IP,
      timeoutS: 30,
    });
    await gw.listening();
    const peer = runSipp({
      scenario: 'uac-peer-call.xml',
      port: await allocatePort(),
      localIp: '127.0.0.2',
      remote: stack.sipAddress,
      fields: ['+4915100000', 'unused', DOMAIN, '+4930444444'],
      timeoutS: 30,
    });
    const [p, g] = await Promise.all([peer.done, gw.done]);
    expectSippOk(p, 'peer');
    expectSippOk(g, 'gateway');
    let cdr = null;
    for (let i = 0; i < 100 && !cdr; i++) {
      const row = await prisma.cdr.findFirst({ orderBy: { createdAt: 'desc' } });
      if (row && row.sipReason !== IN_PROGRESS && (await prisma.cdr.count()) > before) cdr = row;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(cdr).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      callerDialled: '+4915100000',
      callerRouted: '+4915100000',
      calleeRouted: '004930999888',
      forwardedFrom: `sip:henry@${DOMAIN}`,
      forwardType: 'cfu',
    });
  });
});

describeOnEngine(onEngine('forward chains'), () => {
  it('five forwards deep reach carol, every diversion in the headers; the CDR names the last', async () => {
    const cdr = await call('m1', 'uac-call-bye.xml', { carol: 'uas-answer-chain.xml' });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeDialled: `sip:m1@${DOMAIN}`,
      calleeRouted: `sip:carol@${DOMAIN}`,
      forwardedFrom: `sip:m5@${DOMAIN}`,
      forwardType: 'cfu',
    });
  });

  it('a sixth forward is refused with 482', async () => {
    const cdr = await call('m0', 'uac-call-rejected.xml', {});
    expect(cdr).toMatchObject({
      disposition: 'failed',
      sipCode: 482,
      calleeRouted: 'carol',
      forwardedFrom: `sip:m5@${DOMAIN}`,
    });
  });
});

describeOnEngine(onEngine('forward conditions'), () => {
  const outcome = (status: number, statuses: number[], timedOut = false) =>
    ({ kind: 'failed', status, reason: '', timedOut, statuses }) as const;

  it('maps how the devices failed to the forward that applies', () => {
    expect(forwardCause(outcome(480, [], false), false)).toBe('cfna');
    expect(forwardCause(outcome(480, [487], true), true)).toBe('cft');
    expect(forwardCause(outcome(480, [487], true), false)).toBeUndefined();
    expect(forwardCause(outcome(486, [486, 503]), false)).toBe('cfb');
    expect(forwardCause(outcome(600, [600]), false)).toBe('cfb');
    expect(forwardCause(outcome(503, [503, 408]), false)).toBe('cfna');
    expect(forwardCause(outcome(480, [480]), false)).toBe('cfna');
    // The callee's answer, not a condition: declined, forbidden, not found.
    expect(forwardCause(outcome(603, [603]), false)).toBeUndefined();
    expect(forwardCause(outcome(404, [404, 503]), false)).toBeUndefined();
  });
});

describeOnEngine(onEngine('forward cache'), () => {
  it('follows the database change feed: new, changed and deleted forwards and destinations', async () => {
    const prisma = stack.testDb.db.prisma;
    const forwards = new CallForwards(prisma, pino({ level: 'silent' }));
    await forwards.load();
    const stop = await stack.testDb.db.onChange(CHANGES_CHANNEL, (payload) => {
      const change = parseTableChange(payload);
      const id = change?.op === 'truncate' ? null : (change?.id ?? null);
      if (change?.table === 'call_forwards') void forwards.onForwardChanged(id);
      if (change?.table === 'call_forward_destinations') void forwards.onDestinationChanged(id);
    });
    const until = async (what: string, check: () => boolean): Promise<void> => {
      for (let i = 0; i < 100; i++) {
        if (check()) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`the cache did not follow: ${what}`);
    };
    try {
      const alice = sub('alice') ?? '';
      expect(forwards.of(alice, 'cfb')).toBeUndefined();
      const created = await prisma.callForward.create({
        data: {
          subscriberId: alice,
          type: 'cfb',
          destinations: { create: [{ position: 0, kind: 'uri', destination: 'carol' }] },
        },
        include: { destinations: true },
      });
      await until('created', () => forwards.of(alice, 'cfb')?.destinations.length === 1);
      await prisma.callForwardDestination.create({
        data: { callForwardId: created.id, position: 1, kind: 'number', destination: '030333333' },
      });
      await until('destination added', () => forwards.of(alice, 'cfb')?.destinations[1]?.kind === 'number');
      await prisma.callForwardDestination.delete({ where: { id: created.destinations[0]?.id ?? '' } });
      await until('destination removed', () => forwards.of(alice, 'cfb')?.destinations.length === 1);
      await prisma.callForward.update({ where: { id: created.id }, data: { enabled: false } });
      await until('disabled', () => forwards.of(alice, 'cfb') === undefined);
      await prisma.callForward.update({ where: { id: created.id }, data: { enabled: true } });
      await until('enabled', () => forwards.of(alice, 'cfb') !== undefined);
      await prisma.callForward.delete({ where: { id: created.id } });
      await until('deleted', () => forwards.of(alice, 'cfb') === undefined);
    } finally {
      await stop();
    }
  });
});
