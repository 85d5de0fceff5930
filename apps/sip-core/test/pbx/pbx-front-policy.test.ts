import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allocatePort, expectSippOk, runSipp } from '../calls/support/sipp.ts';
import { type CallStack, startCallStack } from '../calls/support/stack.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { frontDomain, registerThroughPlatform } from './fronting.ts';
import { type KamailioPbx, startKamailioPbx } from './kamailio.ts';

/**
 * The platform's own policy on the calls of a fronted domain's phones (docs/sbc.md, "Fronting a
 * PBX"), with Kamailio as the PBX of pbx.test: credentials the PBX refuses on an INVITE count
 * towards the phone address's ban, as on REGISTER; the PBX's gateway limits (2 concurrent calls) count
 * the phones' calls through it (alice's call to bob is two: hers to the PBX, the PBX's to bob).
 */

const PBX_DOMAIN = 'pbx.test';
const PBX_ADDRESS = '127.0.0.49';
const EVE_ADDRESS = '127.0.0.60';
const ALICE_ADDRESS = '127.0.0.61';
const BOB_ADDRESS = '127.0.0.62';
const CAROL_ADDRESS = '127.0.0.63';
const MAX_FAILURES = 3;

let stack: CallStack;
let pbx: KamailioPbx;
let dataDir: string;
let bobPort: number;

beforeAll(async () => {
  pbx = await startKamailioPbx(PBX_ADDRESS, '127.0.0.1', {
    [`eve@${PBX_DOMAIN}`]: 'eve-pbx-secret',
    [`alice@${PBX_DOMAIN}`]: 'alice-pbx-secret',
    [`bob@${PBX_DOMAIN}`]: 'bob-pbx-secret',
    [`carol@${PBX_DOMAIN}`]: 'carol-pbx-secret',
  });
  // Its data directory holds the sealing key the flow tokens are made with.
  dataDir = mkdtempSync(join(tmpdir(), 'pbx-front-policy-'));
  stack = await startCallStack(
    {},
    {},
    async (db) => {
      const prisma = db.db.prisma;
      const gatewayId = await frontDomain(prisma, pbx, PBX_DOMAIN);
      await prisma.peerPolicy.create({ data: { gatewayId, maxConcurrentCalls: 2 } });
    },
    { push: { dataDir }, maxFailuresPerAddress: MAX_FAILURES },
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

/** The INVITEs Kamailio logged. */
function invitesSeen(): string[] {
  return pbx.seen().filter((line) => line.includes('PBX-SAW INVITE'));
}

describeOnEngine(onEngine("a fronted PBX's phones under the platform's policy"), () => {
  it('bans a phone whose INVITE credentials the PBX keeps refusing; its next INVITE never reaches the PBX', async () => {
    // eve answers each of Kamailio's challenges with a wrong password; Kamailio challenges again.
    const eve = runSipp({
      scenario: 'uac-invite-refused-credentials.xml',
      port: await allocatePort(),
      localIp: EVE_ADDRESS,
      remote: stack.sipAddress,
      fields: ['eve', '[authentication username=eve password=wrong]', PBX_DOMAIN, 'bob'],
      authUri: `bob@${PBX_DOMAIN}`,
      calls: MAX_FAILURES,
      timeoutS: 20,
      traceErrors: true,
    });
    expectSippOk(await eve.done, 'eve with a wrong password');
    // Two INVITEs per attempt (the first, then the one with credentials) reached the PBX.
    expect(invitesSeen(), pbx.seen().join('\n')).toHaveLength(2 * MAX_FAILURES);
    const ban = await stack.testDb.db.prisma.ipBan.findUnique({ where: { address: EVE_ADDRESS } });
    expect(ban?.reason).toContain('failed authentications');
    // Banned: the next INVITE from her address is dropped by us (UDP: no answer) before the PBX.
    const again = runSipp({
      scenario: 'uac-invite-challenged.xml',
      port: await allocatePort(),
      localIp: EVE_ADDRESS,
      remote: stack.sipAddress,
      fields: ['eve', 'unused', PBX_DOMAIN, 'bob'],
      timeoutS: 3,
    });
    expect((await again.done).code).not.toBe(0);
    expect(invitesSeen()).toHaveLength(2 * MAX_FAILURES);
  }, 60_000);

  it("refuses a phone's call with 503 and Retry-After while the PBX's gateway is at its limit", async () => {
    const bob = runSipp({
      scenario: 'uas-answer-hangup-later.xml',
      port: bobPort,
      localIp: BOB_ADDRESS,
      timeoutS: 20,
      traceErrors: true,
    });
    await bob.listening();
    const alice = runSipp({
      scenario: 'uac-call-wait-bye.xml',
      port: await allocatePort(),
      localIp: ALICE_ADDRESS,
      remote: stack.sipAddress,
      fields: ['alice', '[authentication username=alice password=alice-pbx-secret]', PBX_DOMAIN, 'bob'],
      authUri: `bob@${PBX_DOMAIN}`,
      timeoutS: 20,
      traceErrors: true,
    });
    // Bounded wait (10 s) until both of the call's legs through the gateway are answered.
    for (let i = 0; i < 100; i++) {
      if (stack.sipCore.activeCalls().filter((call) => call.state === 'answered').length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(stack.sipCore.activeCalls().filter((call) => call.state === 'answered')).toHaveLength(2);
    const seenBefore = invitesSeen().length;
    const carol = runSipp({
      scenario: 'uac-invite-retry-later.xml',
      port: await allocatePort(),
      localIp: CAROL_ADDRESS,
      remote: stack.sipAddress,
      fields: ['carol', 'unused', PBX_DOMAIN, 'bob'],
      timeoutS: 10,
      traceErrors: true,
    });
    expectSippOk(await carol.done, 'carol refused by the limit');
    // Refused by us: her INVITE never reached the PBX.
    expect(invitesSeen()).toHaveLength(seenBefore);
    const [a, b] = await Promise.all([alice.done, bob.done]);
    expectSippOk(a, 'alice');
    expectSippOk(b, 'bob');
  }, 60_000);
});
