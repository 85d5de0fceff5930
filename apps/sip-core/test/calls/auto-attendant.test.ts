import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  allocatePort,
  type CallingSoftphone,
  expectSippOk,
  type SippRun,
  sippPcap,
  startBaresip,
  startSipp,
  writeToneWav,
} from '@switchboard/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { runSipp } from './support/sipp.ts';
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
 * The auto-attendant through engine + sip-core + a real rtpengine + PostgreSQL: alice (sipp) calls
 * `main`, whose greeting reaches her as early media (a 183 with the relay's SDP). Then:
 * - she sends the RFC 4733 digit 1 from sipp's `dtmf_2833_1.pcap`: the `sales` hunt group rings, its
 *   baresip member answers and its sipp member gets CANCEL ("Call completed elsewhere");
 * - she sends nothing: after the digit timeout the operator (`op`, sipp) answers;
 * - she sends 2: the subscriber `bob` (sipp) answers.
 * And the attendant's number (DID) +4930555100, called by the trusted gateway 127.0.0.6 (sipp, no
 * digest): the same greeting as a 183, digit 2 reaches bob.
 * Each CDR names the final destination.
 */

const TEMPLATE = fileURLToPath(new URL('../sipp/attendant/uac-attendant.xml', import.meta.url));
const PEER_TEMPLATE = fileURLToPath(new URL('../sipp/attendant/uac-peer-attendant.xml', import.meta.url));
const GATEWAY_IP = '127.0.0.6';
const MAIN_NUMBER = '+4930555100';

let stack: CallStack;
let work: string;
let m1: CallingSoftphone | undefined;
const ports: Record<string, number> = {};
const users = ['alice', 'm1', 'm2', 'op', 'bob'];
const sub = (name: string): string => stack.subscribers.get(name) ?? '';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'auto-attendant-'));
  stack = await startCallStack(
    Object.fromEntries(users.map((u) => [u, `${u}-secret`])),
    { ringTimeout: 20 },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      const id = (name: string): string => subscribers.get(name) ?? '';
      const sales = await prisma.huntGroup.create({
        data: {
          customerId: tenant.customerId,
          domainId: tenant.domainId,
          username: 'sales',
          name: 'Sales',
          strategy: 'parallel',
          ringTimeout: 15,
          members: {
            create: [
              { subscriberId: id('m1'), position: 0 },
              { subscriberId: id('m2'), position: 1 },
            ],
          },
        },
      });
      const main = await prisma.autoAttendant.create({
        data: {
          customerId: tenant.customerId,
          domainId: tenant.domainId,
          username: 'main',
          name: 'Main line',
          greetingText: 'Welcome. For sales press one.',
          digitTimeout: 2,
          maxReplays: 1,
          timeoutKind: 'subscriber',
          timeoutTarget: id('op'),
          options: {
            create: [
              { digit: '1', kind: 'hunt_group', target: sales.id },
              { digit: '2', kind: 'subscriber', target: id('bob') },
            ],
          },
        },
      });
      // The attendant's DID, and the carrier's gateway that calls it.
      await prisma.phoneNumber.create({
        data: {
          autoAttendantId: main.id,
          e164: MAIN_NUMBER,
          countryCode: '49',
          areaCode: '30',
          subscriberNumber: '555100',
        },
      });
      const carrier = await prisma.peeringGroup.create({ data: { name: 'carrier' } });
      await prisma.peerGateway.create({ data: { groupId: carrier.id, name: 'gw', host: GATEWAY_IP } });
    },
    { voicemail: { dataDir: join(tmpdir(), `auto-attendant-data-${process.pid}`) } },
  );
  for (const user of ['m2', 'op', 'bob']) ports[user] = await registerWithSipp(stack, user, `${user}-secret`);
}, 90_000);

afterAll(async () => {
  m1?.stop();
  await closeCallStack(stack);
  rmSync(work, { recursive: true, force: true });
  rmSync(join(tmpdir(), `auto-attendant-data-${process.pid}`), { recursive: true, force: true });
}, 30_000);

/** The caller's scenario: the template with the digit's pcap played after the 183, or nothing played. */
function callerScenario(digitPcap: string | undefined, template = TEMPLATE): string {
  const play = digitPcap
    ? `<nop><action><exec play_pcap_audio="${sippPcap(digitPcap)}" /></action></nop>`
    : '';
  const file = join(work, `${template === TEMPLATE ? 'uac' : 'peer'}-attendant-${digitPcap ?? 'none'}.xml`);
  writeFileSync(file, readFileSync(template, 'utf8').replaceAll('@PLAY@', play));
  return file;
}

/**
 * alice calls `main` playing `digitPcap` while `members` run; all must end as their scenarios expect.
 * `fromGateway`: the trusted gateway calls the attendant's number instead.
 */
async function callAttendant(
  digitPcap: string | undefined,
  members: Record<string, SippRun>,
  fromGateway = false,
) {
  const before = await stack.testDb.db.prisma.cdr.count();
  await Promise.all(Object.values(members).map((m) => m.listening()));
  const caller = startSipp({
    scenario: callerScenario(digitPcap, fromGateway ? PEER_TEMPLATE : TEMPLATE),
    port: await allocatePort({ min: 18000, max: 18999 }),
    remote: stack.sipAddress,
    ...(fromGateway
      ? { localAddress: GATEWAY_IP, fields: ['+4930999888', 'unused', DOMAIN, MAIN_NUMBER] }
      : { fields: callFields('alice', 'alice-secret', 'main'), authUri: `main@${DOMAIN}` }),
    timeoutS: 40,
    // Its own media port: the digit is sent from there to the relay port the 183 named.
    extraArgs: ['-mp', String(await allocatePort())],
  });
  const names = Object.keys(members);
  const [callerResult, ...memberResults] = await Promise.all([
    caller.done,
    ...names.map((n) => members[n]?.done),
  ]);
  expectSippOk(callerResult, fromGateway ? 'gateway (uac-peer-attendant)' : 'alice (uac-attendant)');
  memberResults.forEach((result, i) => {
    if (result) expectSippOk(result, names[i] ?? '');
  });
  return completedCdr(stack, before);
}

const member = (user: string, scenario: string): SippRun =>
  runSipp({ scenario, port: ports[user] ?? 0, timeoutS: 40 });

describeOnEngine(onEngine('auto-attendant'), { timeout: 90_000 }, () => {
  it('digit 1 (RFC 4733 from a pcap) reaches the sales group, whose baresip member answers', async () => {
    const tone = join(work, 'm1.wav');
    writeToneWav(tone, 440, 30);
    m1 = await startBaresip(
      { user: 'm1', domain: DOMAIN, password: 'm1-secret', registrar: stack.sipAddress },
      { play: tone },
    );
    await untilBound(stack, 'm1', m1);
    const established = m1.waitFor('established', 30_000);
    const cdr = await callAttendant('dtmf_2833_1.pcap', { m2: member('m2', 'uas-ring-elsewhere.xml') });
    await established;
    expect(cdr).toMatchObject({
      disposition: 'answered',
      sipCode: 200,
      calleeDialled: `sip:main@${DOMAIN}`,
      calleeRouted: `sip:sales@${DOMAIN}`,
      calleeCustomerId: stack.tenant.customerId,
      calleeSubscriberId: sub('m1'),
    });
    m1.stop();
    m1 = undefined;
  });

  it('no digit: after the digit timeout the operator (timeout destination) answers', async () => {
    const started = Date.now();
    const cdr = await callAttendant(undefined, { op: member('op', 'uas-answer.xml') });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeRouted: `sip:op@${DOMAIN}`,
      calleeSubscriberId: sub('op'),
    });
    // The greeting played and the 2 s digit timeout ran out before the operator rang.
    const answeredAt = cdr.answeredAt?.getTime() ?? 0;
    expect(answeredAt - cdr.startedAt.getTime()).toBeGreaterThan(2000);
    expect(Date.now() - started).toBeGreaterThan(2000);
  });

  it('digit 2 reaches the subscriber bob', async () => {
    const cdr = await callAttendant('dtmf_2833_2.pcap', { bob: member('bob', 'uas-answer.xml') });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeRouted: `sip:bob@${DOMAIN}`,
      calleeSubscriberId: sub('bob'),
    });
  });

  it("the attendant's number (DID), called by the trusted gateway: greeting as a 183, digit 2 reaches bob", async () => {
    const cdr = await callAttendant('dtmf_2833_2.pcap', { bob: member('bob', 'uas-answer.xml') }, true);
    expect(cdr).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      callerRouted: '+4930999888',
      calleeRouted: `sip:bob@${DOMAIN}`,
      calleeSubscriberId: sub('bob'),
      calleeCustomerId: stack.tenant.customerId,
    });
  });
});
