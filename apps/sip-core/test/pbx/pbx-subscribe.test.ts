import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allocatePort, expectSippOk, expectSippsOk, runSipp } from '../calls/support/sipp.ts';
import { type CallStack, startCallStack } from '../calls/support/stack.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { frontDomain, registerThroughPlatform } from './fronting.ts';
import { type KamailioPbx, startKamailioPbx } from './kamailio.ts';

/**
 * Subscriptions of a fronted domain's phones (docs/sbc.md, "Fronting a PBX"): Kamailio is the PBX of
 * pbx.test (registrar with Path, digest), and proxies SUBSCRIBEs, record-routed, to a sipp
 * message-summary notifier behind it, whose NOTIFYs come back through it. alice (sipp) registers
 * through the platform, then subscribes to her message-summary: the PBX's 407 and her retry pass end to
 * end, the notifier's NOTIFYs reach her in her subscription, her refresh and her unsubscribe reach the
 * notifier with its answers back, and neither the PBX nor the notifier learns her address. Then a
 * voicemail server behind the PBX sends her an unsolicited message-summary NOTIFY, which the PBX routes
 * by her Path to the platform and the platform to her phone.
 */

const PBX_DOMAIN = 'pbx.test';
const PBX_ADDRESS = '127.0.0.46';
const NOTIFIER_ADDRESS = '127.0.0.47';
const ALICE_ADDRESS = '127.0.0.57';
const ALICE_SECRET = 'alice-pbx-secret';

let stack: CallStack;
let pbx: KamailioPbx;
let notifierPort: number;
let alicePort: number;
let dataDir: string;

beforeAll(async () => {
  notifierPort = await allocatePort();
  pbx = await startKamailioPbx(
    PBX_ADDRESS,
    '127.0.0.1',
    { [`alice@${PBX_DOMAIN}`]: ALICE_SECRET },
    { notifier: { address: NOTIFIER_ADDRESS, port: notifierPort } },
  );
  // Its data directory holds the sealing key the flow tokens are made with.
  dataDir = mkdtempSync(join(tmpdir(), 'pbx-subscribe-'));
  stack = await startCallStack(
    {},
    {},
    async (db) => {
      const prisma = db.db.prisma;
      await frontDomain(prisma, pbx, PBX_DOMAIN);
    },
    { push: { dataDir } },
  );
  alicePort = await registerThroughPlatform(stack, {
    user: 'alice',
    password: ALICE_SECRET,
    address: ALICE_ADDRESS,
    domain: PBX_DOMAIN,
  });
}, 90_000);

afterAll(async () => {
  await stack?.close();
  await pbx?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describeOnEngine(onEngine('subscriptions of a fronted PBX'), () => {
  it("relays alice's message-summary subscription to the PBX: challenge, NOTIFYs, refresh and unsubscribe", async () => {
    const notifier = runSipp({
      scenario: 'uas-pbx-notifier.xml',
      port: notifierPort,
      localIp: NOTIFIER_ADDRESS,
      fields: [ALICE_ADDRESS, `alice@${PBX_DOMAIN}`],
      timeoutS: 20,
      traceErrors: true,
    });
    await notifier.listening();
    const alice = runSipp({
      scenario: 'uac-pbx-subscribe.xml',
      port: alicePort,
      localIp: ALICE_ADDRESS,
      remote: stack.sipAddress,
      fields: ['alice', `[authentication username=alice password=${ALICE_SECRET}]`, PBX_DOMAIN],
      authUri: `alice@${PBX_DOMAIN}`,
      timeoutS: 20,
      traceErrors: true,
    });
    const [a, n] = await Promise.all([alice.done, notifier.done]);
    // Both sides' views, and what reached the PBX: once under load alice never got the final NOTIFY.
    expectSippsOk({ alice: a, notifier: n }, () => pbx.seen().join('\n'));
    // The PBX saw the challenged SUBSCRIBE, the retry, the refresh and the unsubscribe, all from the
    // platform, none naming alice's address.
    const subscribes = pbx.seen().filter((line) => line.includes('PBX-SAW SUBSCRIBE'));
    expect(subscribes.length, subscribes.join('\n')).toBeGreaterThanOrEqual(4);
    for (const line of subscribes) {
      expect(line).toContain('src=127.0.0.1:');
      expect(line).not.toContain(ALICE_ADDRESS);
    }
    // Our own notifier kept out of it: it holds no subscription.
    expect(stack.sipCore.presence.store.size).toBe(0);
  }, 40_000);

  it('routes an unsolicited message-summary NOTIFY from behind the PBX to alice by her Path', async () => {
    const phone = runSipp({
      scenario: 'uas-pbx-mwi-phone.xml',
      port: alicePort,
      localIp: ALICE_ADDRESS,
      fields: [PBX_ADDRESS],
      timeoutS: 15,
      traceErrors: true,
    });
    await phone.listening();
    const voicemail = runSipp({
      scenario: 'uac-pbx-mwi.xml',
      port: await allocatePort(),
      localIp: NOTIFIER_ADDRESS,
      remote: `${PBX_ADDRESS}:${pbx.port}`,
      fields: [`alice@${PBX_DOMAIN}`],
      timeoutS: 15,
      traceErrors: true,
    });
    const [v, p] = await Promise.all([voicemail.done, phone.done]);
    expectSippOk(v, 'voicemail server');
    expectSippOk(p, 'alice');
  }, 30_000);
});
