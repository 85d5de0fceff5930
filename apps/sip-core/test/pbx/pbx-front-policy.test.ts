import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allocatePort, expectSippOk, runSipp } from '../calls/support/sipp.ts';
import { type CallStack, startCallStack } from '../calls/support/stack.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { type KamailioPbx, startKamailioPbx } from './kamailio.ts';

/**
 * The platform's own policy on the calls of a fronted domain's phones (docs/sbc.md, "Fronting a
 * PBX"), with Kamailio as the PBX of pbx.test: credentials the PBX refuses on an INVITE count
 * towards the phone address's ban, as on REGISTER.
 */

const PBX_DOMAIN = 'pbx.test';
const PBX_ADDRESS = '127.0.0.49';
const EVE_ADDRESS = '127.0.0.60';
const MAX_FAILURES = 3;

let stack: CallStack;
let pbx: KamailioPbx;
let dataDir: string;

beforeAll(async () => {
  pbx = await startKamailioPbx(PBX_ADDRESS, '127.0.0.1', { [`eve@${PBX_DOMAIN}`]: 'eve-pbx-secret' });
  // Its data directory holds the sealing key the flow tokens are made with.
  dataDir = mkdtempSync(join(tmpdir(), 'pbx-front-policy-'));
  stack = await startCallStack(
    {},
    {},
    async (db) => {
      const prisma = db.db.prisma;
      const group = await prisma.peeringGroup.create({ data: { name: 'pbx' } });
      const gateway = await prisma.peerGateway.create({
        data: { groupId: group.id, name: 'kamailio', host: PBX_ADDRESS, port: pbx.port, priority: 1 },
      });
      await prisma.domain.create({ data: { name: PBX_DOMAIN, upstreamGatewayId: gateway.id } });
    },
    { push: { dataDir }, maxFailuresPerAddress: MAX_FAILURES },
  );
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
});
