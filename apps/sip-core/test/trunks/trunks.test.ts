import { randomBytes } from 'node:crypto';
import { seal } from '@switchboard/push';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GATEWAY_REGISTER_CONTEXT } from '../../src/trunks/settings.ts';
import { addOutboundRewrite, addPrimaryNumber } from '../calls/support/provision.ts';
import { allocatePort, expectSippOk, runSipp, type SippRun } from '../calls/support/sipp.ts';
import {
  type CallStack,
  callFields,
  closeCallStack,
  completedCdr,
  DOMAIN,
  registerWithSipp,
  startCallStack,
} from '../calls/support/stack.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';

/**
 * Trunk registration and gateway health against sipp carriers on their own loopback addresses:
 * `trunk` (127.0.0.9) registers to a sipp registrar that challenges with 401 and verifies the digest;
 * `gw1` (127.0.0.7, priority 1) is health-checked with OPTIONS every second, down after 2 misses;
 * `gw2` (127.0.0.8, priority 2) is not checked. Timings are short so that a refresh, a failure and
 * a recovery all happen within seconds.
 */

const credentialsKey = randomBytes(32);
const CONTACT_USER = `tr-${randomBytes(6).toString('hex')}`;
const EXPIRES = 4;
let stack: CallStack;
let carrierPort: number;
let briefPort: number;
let gw1Port: number;
let gw2Port: number;
let bobPort: number;
const ids: Record<string, string> = {};

beforeAll(async () => {
  carrierPort = await allocatePort();
  briefPort = await allocatePort();
  gw1Port = await allocatePort();
  gw2Port = await allocatePort();
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret' },
    { ringTimeout: 10 },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      await addPrimaryNumber(prisma, subscribers.get('alice') ?? '', '+4930111111');
      await addPrimaryNumber(prisma, subscribers.get('bob') ?? '', '+4930222222');
      await addOutboundRewrite(prisma, tenant.domainId);
      const group = await prisma.peeringGroup.create({ data: { name: 'carrier' } });
      await prisma.peeringRule.create({ data: { groupId: group.id, calleePrefix: '49' } });
      ids.trunk = (
        await prisma.peerGateway.create({
          data: {
            groupId: group.id,
            name: 'trunk',
            host: '127.0.0.9',
            port: carrierPort,
            priority: 50,
            enabled: true,
            registerEnabled: true,
            registrarUri: `sip:127.0.0.9:${carrierPort}`,
            registerUsername: 'acme',
            registerPasswordSealed: seal(credentialsKey, 'trunk-secret', GATEWAY_REGISTER_CONTEXT),
            registerRealm: 'carrier.test',
            registerExpires: EXPIRES,
            registerContactUser: CONTACT_USER,
            // Not a route for calls out in these tests.
            weight: 0,
          },
        })
      ).id;
      ids.brief = (
        await prisma.peerGateway.create({
          data: {
            groupId: group.id,
            name: 'brief',
            host: '127.0.0.12',
            port: briefPort,
            priority: 60,
            // Turned on once its registrar runs (the scenario takes the first REGISTER it sees).
            registerEnabled: false,
            registrarUri: `sip:127.0.0.12:${briefPort}`,
            registerUsername: 'brief',
            registerPasswordSealed: seal(credentialsKey, 'brief-secret', GATEWAY_REGISTER_CONTEXT),
            registerExpires: 2,
            registerContactUser: `tr-${randomBytes(6).toString('hex')}`,
          },
        })
      ).id;
      ids.gw1 = (
        await prisma.peerGateway.create({
          data: {
            groupId: group.id,
            name: 'gw1',
            host: '127.0.0.7',
            port: gw1Port,
            priority: 1,
            healthCheck: true,
            healthInterval: 1,
            healthThreshold: 2,
          },
        })
      ).id;
      ids.gw2 = (
        await prisma.peerGateway.create({
          data: { groupId: group.id, name: 'gw2', host: '127.0.0.8', port: gw2Port, priority: 2 },
        })
      ).id;
    },
    {
      push: { credentialsKey },
      trunks: {
        answerTimeoutMs: 1_500,
        leaseRenewMs: 1_000,
        leaseTtlMs: 3_000,
        timing: { retryBaseMs: 500, retryMaxMs: 2_000 },
      },
    },
  );
  bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
}, 60_000);

afterAll(() => closeCallStack(stack), 30_000);

async function status(gatewayId: string) {
  return stack.testDb.db.prisma.peerGatewayStatus.findUnique({ where: { gatewayId } });
}

/** Polls until `check` holds (bounded); returns what it last saw. */
async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  expect(check(value), `condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`).toBe(true);
  return value;
}

function carrier(): SippRun {
  return runSipp({
    scenario: 'uas-carrier-registrar.xml',
    port: carrierPort,
    localIp: '127.0.0.9',
    fields: ['acme', 'trunk-secret', String(EXPIRES)],
    calls: 1000,
    timeoutS: 60,
  });
}

function gateway1(): SippRun {
  return runSipp({
    scenario: 'uas-gateway-health.xml',
    port: gw1Port,
    localIp: '127.0.0.7',
    calls: 1000,
    timeoutS: 60,
  });
}

/** alice calls +4930555123 (LCR: gw1 before gw2). Returns the call's CDR. */
async function callOut() {
  const before = await stack.testDb.db.prisma.cdr.count();
  const caller = runSipp({
    scenario: 'uac-call-bye.xml',
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('alice', 'alice-secret', '+4930555123'),
    authUri: '+4930555123@example.test',
    timeoutS: 20,
  });
  expectSippOk(await caller.done, 'caller');
  return completedCdr(stack, before);
}

describeOnEngine(onEngine('trunk registration'), () => {
  it('registers with digest, refreshes before expiry, fails while the carrier is gone and recovers', async () => {
    let registrar = carrier();
    await registrar.listening();
    const first = await eventually(
      () => status(ids.trunk ?? ''),
      (s) => s?.registration === 'registered',
    );
    expect(first?.leaseNode).toBe('calls-test');
    expect(
      first?.expiresAt && first.registeredAt ? first.expiresAt.getTime() - first.registeredAt.getTime() : 0,
    ).toBe(EXPIRES * 1000);
    // The refresh (a new digest-verified REGISTER) lands before the first registration expires.
    const refreshed = await eventually(
      () => status(ids.trunk ?? ''),
      (s) => s?.registeredAt !== null && s?.registeredAt?.getTime() !== first?.registeredAt?.getTime(),
      EXPIRES * 1000,
    );
    expect(refreshed?.registeredAt?.getTime()).toBeLessThan(first?.expiresAt?.getTime() ?? 0);
    expect(refreshed?.registration).toBe('registered');

    registrar.stop();
    await registrar.done;
    const failing = await eventually(
      () => status(ids.trunk ?? ''),
      (s) => s?.registration === 'failing',
    );
    expect(failing?.registrationError).toContain('no answer');
    expect(failing?.nextAttemptAt).not.toBeNull();

    registrar = carrier();
    await registrar.listening();
    await eventually(
      () => status(ids.trunk ?? ''),
      (s) => s?.registration === 'registered',
    );
    // The history entry follows the status row.
    await eventually(
      async () =>
        (
          await stack.testDb.db.prisma.peerGatewayEvent.findMany({
            where: { gatewayId: ids.trunk ?? '', kind: 'registration' },
            orderBy: { at: 'asc' },
          })
        )
          .map((e) => e.state)
          .filter((s) => s !== 'registering')
          .slice(-3)
          .join(','),
      (states) => states === 'registered,failing,registered',
      5_000,
    );

    // A call from the carrier to the registered contact (from an address no gateway has) is the trunk's.
    const bob = runSipp({ scenario: 'uas-answer.xml', port: bobPort, timeoutS: 20 });
    await bob.listening();
    const before = await stack.testDb.db.prisma.cdr.count();
    const peer = runSipp({
      scenario: 'uac-trunk-call.xml',
      port: await allocatePort(),
      localIp: '127.0.0.11',
      remote: stack.sipAddress,
      fields: ['+4930999999', CONTACT_USER, DOMAIN, '+4930222222'],
      timeoutS: 20,
    });
    const [p, b] = await Promise.all([peer.done, bob.done]);
    expectSippOk(p, 'carrier');
    expectSippOk(b, 'bob');
    expect(await completedCdr(stack, before)).toMatchObject({
      direction: 'inbound',
      peerGatewayId: ids.trunk,
      calleeSubscriberId: stack.subscribers.get('bob'),
    });
    registrar.stop();
  }, 60_000);
});

describeOnEngine(onEngine('trunk registration too brief'), () => {
  it("asks again with the registrar's Min-Expires after 423, with the digest", async () => {
    const registrar = runSipp({
      scenario: 'uas-carrier-brief.xml',
      port: briefPort,
      localIp: '127.0.0.12',
      fields: ['brief', 'brief-secret'],
      timeoutS: 30,
    });
    await registrar.listening();
    await stack.testDb.db.prisma.peerGateway.update({
      where: { id: ids.brief ?? '' },
      data: { registerEnabled: true },
    });
    expectSippOk(await registrar.done, 'registrar');
    const registered = await eventually(
      () => status(ids.brief ?? ''),
      (s) => s?.registration === 'registered',
    );
    expect((registered?.expiresAt?.getTime() ?? 0) - (registered?.registeredAt?.getTime() ?? 0)).toBe(30_000);
    // Turned off: the trunk stops (and says so) instead of refreshing a registrar that is gone.
    await stack.testDb.db.prisma.peerGateway.update({
      where: { id: ids.brief ?? '' },
      data: { registerEnabled: false },
    });
    await eventually(
      () => status(ids.brief ?? ''),
      (s) => s?.registration === 'disabled',
    );
  }, 60_000);
});

describeOnEngine(onEngine('gateway health'), () => {
  it('skips a gateway that stops answering OPTIONS and uses it again when it answers', async () => {
    let gw1 = gateway1();
    await gw1.listening();
    await eventually(
      () => status(ids.gw1 ?? ''),
      (s) => s?.health === 'up',
    );
    expect(stack.sipCore.trunks.isDown(ids.gw1 ?? '')).toBe(false);

    gw1.stop();
    await gw1.done;
    // Two missed pings a second apart (each waits 0.5 s): down within a few seconds.
    await eventually(
      async () => stack.sipCore.trunks.isDown(ids.gw1 ?? ''),
      (down) => down,
      6_000,
    );
    const gw2 = runSipp({ scenario: 'uas-gateway.xml', port: gw2Port, localIp: '127.0.0.8', timeoutS: 20 });
    await gw2.listening();
    const skipped = await callOut();
    expectSippOk(await gw2.done, 'gateway 2');
    expect(skipped).toMatchObject({ direction: 'outbound', disposition: 'answered', peerGatewayId: ids.gw2 });

    gw1 = gateway1();
    await gw1.listening();
    await eventually(
      async () => stack.sipCore.trunks.isDown(ids.gw1 ?? ''),
      (down) => !down,
      6_000,
    );
    const used = await callOut();
    expect(used).toMatchObject({ direction: 'outbound', disposition: 'answered', peerGatewayId: ids.gw1 });
    gw1.stop();

    const history = await stack.testDb.db.prisma.peerGatewayEvent.findMany({
      where: { gatewayId: ids.gw1 ?? '', kind: 'health' },
      orderBy: { at: 'asc' },
    });
    // Down first while no gw1 ran during the registration test, then the three changes of this one.
    expect(history.map((e) => e.state).slice(-3)).toEqual(['up', 'down', 'up']);
  }, 60_000);
});
