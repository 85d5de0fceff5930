import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { addPrimaryNumber } from '../calls/support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from '../calls/support/sipp.ts';
import { type CallStack, startCallStack } from '../calls/support/stack.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { frontDomain, registerThroughPlatform } from './fronting.ts';
import { type KamailioPbx, startKamailioPbx } from './kamailio.ts';

/**
 * A subscriber of one of the platform's own domains calls a fronted domain's user (docs/sbc.md,
 * "Fronting a PBX"): carol@example.test (sipp, digest against us) dials `sip:bob@pbx.test`; the call
 * goes to Kamailio, the PBX of pbx.test, as an outbound call to its gateway (the caller's number
 * asserted, topology hidden), Kamailio routes it by bob's Path back to the platform, and bob's phone
 * (sipp, registered through the platform) answers. Two CDRs: carol's outbound one with the PBX's
 * gateway, and the PBX's inbound one to bob. carol's MESSAGE to bob@pbx.test takes the same way.
 */

const PBX_DOMAIN = 'pbx.test';
const PBX_ADDRESS = '127.0.0.48';
const BOB_ADDRESS = '127.0.0.58';
const CAROL_ADDRESS = '127.0.0.59';

let stack: CallStack;
let pbx: KamailioPbx;
let bobPort: number;
let dataDir: string;
let gatewayId = '';

beforeAll(async () => {
  pbx = await startKamailioPbx(PBX_ADDRESS, '127.0.0.1', { [`bob@${PBX_DOMAIN}`]: 'bob-pbx-secret' });
  // Its data directory holds the sealing key the flow tokens are made with.
  dataDir = mkdtempSync(join(tmpdir(), 'pbx-own-callers-'));
  stack = await startCallStack(
    { carol: 'carol-secret' },
    {},
    async (db, _tenant, subscribers) => {
      const prisma = db.db.prisma;
      await addPrimaryNumber(prisma, subscribers.get('carol') ?? '', '+4930333333');
      gatewayId = await frontDomain(prisma, pbx, PBX_DOMAIN);
    },
    { push: { dataDir } },
  );
  bobPort = await registerThroughPlatform(stack, {
    user: 'bob',
    password: 'bob-pbx-secret',
    address: BOB_ADDRESS,
    domain: PBX_DOMAIN,
  });
}, 90_000);

afterAll(async () => {
  await stack?.close();
  await pbx?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

/** Bounded wait (10 s) until the CDRs after the first `before` rows number `count` and are complete. */
async function newCdrs(before: number, count: number) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const rows = await stack.testDb.db.prisma.cdr.findMany({ orderBy: { createdAt: 'asc' } });
    const fresh = rows.slice(before);
    if (fresh.length >= count && fresh.every((row) => row.sipReason !== IN_PROGRESS)) return fresh;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the CDRs were not completed');
}

describeOnEngine(onEngine('our own subscribers calling a fronted PBX'), () => {
  it("sends carol's call to bob@pbx.test to the PBX, which routes it back through bob's Path", async () => {
    const before = await stack.testDb.db.prisma.cdr.count();
    const bob = runSipp({
      scenario: 'uas-answer.xml',
      port: bobPort,
      localIp: BOB_ADDRESS,
      timeoutS: 20,
      traceErrors: true,
    });
    await bob.listening();
    const carol = runSipp({
      scenario: 'uac-call-address.xml',
      port: await allocatePort(),
      localIp: CAROL_ADDRESS,
      remote: stack.sipAddress,
      fields: [
        'carol',
        '[authentication username=carol password=carol-secret]',
        'example.test',
        `bob@${PBX_DOMAIN}`,
      ],
      authUri: `bob@${PBX_DOMAIN}`,
      timeoutS: 20,
      traceErrors: true,
      extraArgs: ['-cid_str', 'own-caller-%u-%p@%s'],
    });
    const [c, b] = await Promise.all([carol.done, bob.done]);
    expectSippOk(c, 'carol');
    expectSippOk(b, 'bob');
    const rows = await newCdrs(before, 2);
    const outbound = rows.find((row) => row.direction === 'outbound');
    const inbound = rows.find((row) => row.direction === 'inbound');
    expect(outbound).toMatchObject({
      disposition: 'answered',
      callerSubscriberId: stack.subscribers.get('carol'),
      peerGatewayId: gatewayId,
    });
    expect(inbound).toMatchObject({ disposition: 'answered', peerGatewayId: gatewayId });
    // What the PBX saw of carol's call: the platform's address and Call-ID of its own, her number
    // asserted as towards any peer, bob's address at the PBX's domain.
    const invites = pbx.seen().filter((line) => line.includes('PBX-SAW INVITE'));
    expect(invites, pbx.seen().join('\n')).toHaveLength(1);
    expect(invites[0]).toContain('src=127.0.0.1:');
    expect(invites[0]).toContain(`ruri=sip:bob@${PBX_DOMAIN}`);
    expect(invites[0]).not.toContain(CAROL_ADDRESS);
    expect(invites[0]).not.toContain('own-caller-');
  }, 40_000);

  it("sends carol's message to bob@pbx.test to the PBX, which routes it back through bob's Path", async () => {
    const bob = runSipp({
      scenario: 'uas-message-fronted.xml',
      port: bobPort,
      localIp: BOB_ADDRESS,
      timeoutS: 15,
      traceErrors: true,
    });
    await bob.listening();
    const carol = runSipp({
      scenario: 'uac-message-address.xml',
      port: await allocatePort(),
      localIp: CAROL_ADDRESS,
      remote: stack.sipAddress,
      fields: [
        'carol',
        '[authentication username=carol password=carol-secret]',
        'example.test',
        `bob@${PBX_DOMAIN}`,
      ],
      authUri: `bob@${PBX_DOMAIN}`,
      timeoutS: 15,
      traceErrors: true,
      extraArgs: ['-cid_str', 'own-caller-%u-%p@%s'],
    });
    const [c, b] = await Promise.all([carol.done, bob.done]);
    expectSippOk(c, 'carol');
    expectSippOk(b, 'bob');
    const messages = pbx.seen().filter((line) => line.includes('PBX-SAW MESSAGE'));
    expect(messages, pbx.seen().join('\n')).toHaveLength(1);
    expect(messages[0]).toContain('src=127.0.0.1:');
    expect(messages[0]).toContain(`ruri=sip:bob@${PBX_DOMAIN}`);
    expect(messages[0]).not.toContain(CAROL_ADDRESS);
    expect(messages[0]).not.toContain('own-caller-');
  }, 30_000);
});
