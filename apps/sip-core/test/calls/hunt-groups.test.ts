import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CALL_CONTROL_CHANNEL } from '@switchboard/db';
import { type CallingSoftphone, startBaresip, writeToneWav } from '@switchboard/testkit';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { allocatePort, expectSippOk, runSipp, type SippRun } from './support/sipp.ts';
import {
  type CallStack,
  callFields,
  closeCallStack,
  completedCdr,
  DOMAIN,
  registerWithSipp,
  startCallStack,
  untilBound,
} from './support/stack.ts';

/**
 * Hunt groups through engine + sip-core + rtpengine + PostgreSQL, alice calling each group by its
 * user part:
 * - `sales`, parallel: m1 is a real baresip answering automatically, m2 and m3 sipp phones that ring
 *   and must then receive a CANCEL with `Reason: SIP;cause=200;text="Call completed elsewhere"`;
 * - `support`, sequential with 2 s per member: ghost (never registered, skipped), s1 (rings, its
 *   CANCEL after the timeout must not claim an answer), s2 (rung when s1's time is up, answers);
 * - `night`, parallel with 2 s: n1 rings, nobody answers, the no-answer destination `desk` answers;
 * - `rotate`, round robin: r1 and r2 both answer when rung; three calls go to r1, r2, r1;
 * - `queue`, sequential: b1 is in a call of its own, so it is skipped and b2 answers;
 * - `late`, created after start: reaches sip-core through the change feed;
 * - `hotline`, reached by its number (DID) +4930555000 from the trusted gateway 127.0.0.6 (sipp as the
 *   PSTN side): its member h1 answers.
 */

let stack: CallStack;
let work: string;
const ports: Record<string, number> = {};
const groups: Record<string, string> = {};
let m1: CallingSoftphone | undefined;

const users = [
  'alice',
  'm1',
  'm2',
  'm3',
  'ghost',
  's1',
  's2',
  'n1',
  'desk',
  'r1',
  'r2',
  'l1',
  'b1',
  'b2',
  'h1',
];
const sub = (name: string): string => stack.subscribers.get(name) ?? '';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'hunt-groups-'));
  stack = await startCallStack(
    Object.fromEntries(users.map((u) => [u, `${u}-secret`])),
    { ringTimeout: 20 },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      const group = async (
        username: string,
        strategy: 'parallel' | 'sequential' | 'round_robin',
        members: string[],
        ringTimeout: number,
        noAnswer?: { kind: 'uri' | 'number'; destination: string },
      ) => {
        const row = await prisma.huntGroup.create({
          data: {
            customerId: tenant.customerId,
            domainId: tenant.domainId,
            username,
            name: username,
            strategy,
            ringTimeout,
            noAnswerKind: noAnswer?.kind ?? null,
            noAnswerDestination: noAnswer?.destination ?? null,
            members: {
              create: members.map((m, position) => ({ subscriberId: subscribers.get(m) ?? '', position })),
            },
          },
        });
        groups[username] = row.id;
      };
      await group('sales', 'parallel', ['m1', 'm2', 'm3'], 15);
      await group('support', 'sequential', ['ghost', 's1', 's2'], 2);
      await group('night', 'parallel', ['n1'], 2, { kind: 'uri', destination: `sip:desk@${DOMAIN}` });
      await group('rotate', 'round_robin', ['r1', 'r2'], 10);
      await group('queue', 'sequential', ['b1', 'b2'], 10);
      await group('hotline', 'parallel', ['h1'], 10);
      await prisma.phoneNumber.create({
        data: {
          huntGroupId: groups.hotline ?? '',
          e164: '+4930555000',
          countryCode: '49',
          areaCode: '30',
          subscriberNumber: '555000',
        },
      });
      const carrier = await prisma.peeringGroup.create({ data: { name: 'carrier' } });
      await prisma.peerGateway.create({ data: { groupId: carrier.id, name: 'gw', host: '127.0.0.6' } });
    },
  );
  for (const user of ['m2', 'm3', 's1', 's2', 'n1', 'desk', 'r1', 'r2', 'l1', 'b1', 'b2', 'h1'])
    ports[user] = await registerWithSipp(stack, user, `${user}-secret`);
}, 90_000);

afterAll(async () => {
  m1?.stop();
  await closeCallStack(stack);
  rmSync(work, { recursive: true, force: true });
}, 30_000);

/** A registered member's sipp UAS; `trace`: its messages with their arrival times go to that file. */
function member(user: string, scenario: string, trace?: string): SippRun {
  return runSipp({
    scenario,
    port: ports[user] ?? 0,
    timeoutS: 30,
    ...(trace ? { extraArgs: ['-trace_msg', '-message_file', trace] } : {}),
  });
}

/** alice calls `callee` with `uac` while `members` run; every sipp must end as its scenario expects. */
async function call(callee: string, uac: string, members: Record<string, SippRun>) {
  const before = await stack.testDb.db.prisma.cdr.count();
  await Promise.all(Object.values(members).map((m) => m.listening()));
  const caller = runSipp({
    scenario: uac,
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('alice', 'alice-secret', callee),
    authUri: `${callee}@${DOMAIN}`,
    timeoutS: 30,
  });
  const names = Object.keys(members);
  const [callerResult, ...memberResults] = await Promise.all([
    caller.done,
    ...names.map((n) => members[n]?.done),
  ]);
  if (callerResult) expectSippOk(callerResult, `alice (${uac})`);
  memberResults.forEach((result, i) => {
    if (result) expectSippOk(result, names[i] ?? '');
  });
  return completedCdr(stack, before);
}

/** How many requests `method` a sipp message trace received. */
function receivedCount(trace: string, method: string): number {
  const blocks = readFileSync(trace, 'utf8').split(/^-{10,}\s*/m);
  return blocks.filter((b) => /message received/.test(b) && new RegExp(`^${method} sip:`, 'm').test(b))
    .length;
}

/**
 * Arrival time (epoch ms) of the first request `method` in a sipp message trace. sipp heads each
 * message with a line of dashes and its timestamp (`YYYY-MM-DD HH:MM:SS.micros`, local time).
 */
function receivedAt(trace: string, method: string): number {
  const text = readFileSync(trace, 'utf8');
  const blocks = text.split(/^-{10,}\s*/m);
  for (const block of blocks) {
    const stamp = /^(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2}(?:\.\d+)?)/.exec(block);
    if (!stamp || !/message received/.test(block)) continue;
    if (!new RegExp(`^${method} sip:`, 'm').test(block)) continue;
    return new Date(`${stamp[1]}T${(stamp[2] ?? '').slice(0, 12)}`).getTime();
  }
  throw new Error(`no ${method} received in ${trace}:\n${text.slice(0, 2000)}`);
}

describeOnEngine(onEngine('hunt groups'), { timeout: 60_000 }, () => {
  it('parallel: the baresip member answers, the other two members get CANCEL with "Call completed elsewhere"', async () => {
    const tone = join(work, 'm1.wav');
    writeToneWav(tone, 440, 30);
    m1 = await startBaresip(
      { user: 'm1', domain: DOMAIN, password: 'm1-secret', registrar: stack.sipAddress },
      { play: tone },
    );
    await untilBound(stack, 'm1', m1);
    const established = m1.waitFor('established', 20_000);
    const cdr = await call('sales', 'uac-call-bye.xml', {
      m2: member('m2', 'uas-ring-elsewhere.xml'),
      m3: member('m3', 'uas-ring-elsewhere.xml'),
    });
    await established;
    expect(cdr).toMatchObject({
      disposition: 'answered',
      sipCode: 200,
      calleeRouted: `sip:sales@${DOMAIN}`,
      calleeCustomerId: stack.tenant.customerId,
      // The member that answered, among the three rung together.
      calleeSubscriberId: sub('m1'),
    });
    m1.stop();
    m1 = undefined;
  });

  it('sequential: an unregistered member is skipped, the second rings only after the first timed out', async () => {
    const s1Trace = join(work, 's1.log');
    const s2Trace = join(work, 's2.log');
    const cdr = await call('support', 'uac-call-bye.xml', {
      s1: member('s1', 'uas-ring-timeout.xml', s1Trace),
      s2: member('s2', 'uas-answer.xml', s2Trace),
    });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeSubscriberId: sub('s2'),
      calleeRouted: `sip:support@${DOMAIN}`,
    });
    const s1Invite = receivedAt(s1Trace, 'INVITE');
    const s1Cancel = receivedAt(s1Trace, 'CANCEL');
    const s2Invite = receivedAt(s2Trace, 'INVITE');
    // s1 is cancelled when its 2 s are up and s2 rung at the same moment: s2's INVITE comes well
    // after s1's (a parallel ring would send both at once), not before s1's timeout ended.
    expect(s1Cancel).toBeGreaterThan(s1Invite);
    expect(s2Invite - s1Invite).toBeGreaterThan(1000);
    expect(s2Invite).toBeGreaterThan(s1Cancel - 500);
  });

  it('no answer: the only member rings out, the no-answer destination answers', async () => {
    const cdr = await call('night', 'uac-call-bye.xml', {
      n1: member('n1', 'uas-ring-timeout.xml'),
      desk: member('desk', 'uas-answer.xml'),
    });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeRouted: `sip:desk@${DOMAIN}`,
      calleeSubscriberId: sub('desk'),
    });
  });

  it('round robin: each call starts one member further on', async () => {
    // Both members answer when rung: who answered shows who was rung first.
    const answered: Array<string | null> = [];
    for (let i = 0; i < 3; i++) {
      const before = await stack.testDb.db.prisma.cdr.count();
      const runs = [member('r1', 'uas-answer.xml'), member('r2', 'uas-answer.xml')];
      await Promise.all(runs.map((r) => r.listening()));
      const caller = runSipp({
        scenario: 'uac-call-bye.xml',
        port: await allocatePort(),
        remote: stack.sipAddress,
        fields: callFields('alice', 'alice-secret', 'rotate'),
        authUri: `rotate@${DOMAIN}`,
        timeoutS: 30,
      });
      expectSippOk(await caller.done, 'alice (uac-call-bye.xml)');
      const cdr = await completedCdr(stack, before);
      // The member that was not rung still waits for its INVITE.
      for (const run of runs) run.stop();
      await Promise.all(runs.map((r) => r.done));
      answered.push(cdr.calleeSubscriberId);
    }
    expect(answered).toEqual([sub('r1'), sub('r2'), sub('r1')]);
  });

  it('busy: a member already in a call is skipped, the next one answers at once', async () => {
    const b1Trace = join(work, 'b1.log');
    // alice calls b1 directly; b1 answers and the call stays up until the API hangs it up.
    const b1 = member('b1', 'uas-answer.xml', b1Trace);
    await b1.listening();
    const direct = runSipp({
      scenario: 'uac-call-wait-bye.xml',
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: callFields('alice', 'alice-secret', 'b1'),
      authUri: `b1@${DOMAIN}`,
      timeoutS: 30,
    });
    await vi.waitFor(
      () => {
        const up = stack.sipCore.activeCalls().find((c) => c.calleeSubscriberId === sub('b1'));
        if (up?.state !== 'answered') throw new Error('the call to b1 is not up');
      },
      { timeout: 10_000, interval: 50 },
    );
    const cdr = await call('queue', 'uac-call-bye.xml', { b2: member('b2', 'uas-answer.xml') });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeSubscriberId: sub('b2'),
      calleeRouted: `sip:queue@${DOMAIN}`,
    });

    const callId = stack.sipCore.activeCalls().find((c) => c.calleeSubscriberId === sub('b1'))?.callId;
    expect(callId).toBeDefined();
    await stack.testDb.db.prisma
      .$executeRaw`SELECT pg_notify(${CALL_CONTROL_CHANNEL}, ${JSON.stringify({ callId })})`;
    expectSippOk(await direct.done, 'alice (uac-call-wait-bye.xml)');
    expectSippOk(await b1.done, 'b1 (uas-answer.xml)');
    // b1 saw only its own call's INVITE: the group never rang it.
    expect(receivedCount(b1Trace, 'INVITE')).toBe(1);
  });

  it('a group created after start is callable once its change arrives; deleting it makes it 404', async () => {
    const prisma = stack.testDb.db.prisma;
    const row = await prisma.huntGroup.create({
      data: {
        customerId: stack.tenant.customerId,
        domainId: stack.tenant.domainId,
        username: 'late',
        name: 'Late',
        members: { create: [{ subscriberId: sub('l1'), position: 0 }] },
      },
    });
    await vi.waitFor(
      () => {
        if (stack.sipCore.caches.huntGroups.find('late', DOMAIN)?.memberIds[0] !== sub('l1'))
          throw new Error('the hunt group did not arrive');
      },
      { timeout: 10_000, interval: 50 },
    );
    const cdr = await call('late', 'uac-call-bye.xml', { l1: member('l1', 'uas-answer.xml') });
    expect(cdr).toMatchObject({ disposition: 'answered', calleeRouted: `sip:late@${DOMAIN}` });

    await prisma.huntGroup.delete({ where: { id: row.id } });
    await vi.waitFor(
      () => {
        if (stack.sipCore.caches.huntGroups.find('late', DOMAIN)) throw new Error('still cached');
      },
      { timeout: 10_000, interval: 50 },
    );
    const refused = await call('late', 'uac-call-rejected.xml', {});
    expect(refused).toMatchObject({ sipCode: 404 });
  });

  it('a number (DID) pointing at a group: a call from the PSTN gateway rings the group', async () => {
    const before = await stack.testDb.db.prisma.cdr.count();
    const h1 = member('h1', 'uas-answer.xml');
    await h1.listening();
    const gateway = runSipp({
      scenario: 'uac-peer-call.xml',
      port: await allocatePort(),
      localIp: '127.0.0.6',
      remote: stack.sipAddress,
      fields: ['+4930999888', 'unused', DOMAIN, '+4930555000'],
      timeoutS: 20,
    });
    const [g, h] = await Promise.all([gateway.done, h1.done]);
    expectSippOk(g, 'gateway');
    expectSippOk(h, 'h1');
    const cdr = await completedCdr(stack, before);
    expect(cdr).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      calleeRouted: `sip:hotline@${DOMAIN}`,
      calleeSubscriberId: sub('h1'),
      callerRouted: '+4930999888',
    });
  });
});
