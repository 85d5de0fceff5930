import { randomBytes } from 'node:crypto';
import { seal } from '@switchboard/push';
import { selfSignedCertificate } from '@switchboard/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_REGISTER_CONTEXT } from '../../src/trunks/settings.ts';
import { addOutboundRewrite, addPrimaryNumber } from '../calls/support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from '../calls/support/sipp.ts';
import {
  type CallStack,
  closeCallStack,
  completedCdr,
  DOMAIN,
  registerWithSipp,
  startCallStack,
} from '../calls/support/stack.ts';
import { onEngine, skipOnEngine } from '../support/engine.ts';
import { CARRIER_REALM, type KamailioRegistrar, startKamailioRegistrar } from './kamailio-registrar.ts';

/**
 * A trunk registering over TLS to a real carrier registrar: Kamailio with its tls module
 * (kamailio-registrar.cfg), which takes REGISTER over TLS only, challenges it with digest and keeps the
 * binding in memory. The engine trusts the registrar's (self-signed) certificate through its
 * ENGINE_OUTBOUND_TLS_CA option. A call the carrier then routes to the registered contact (over TLS)
 * is the trunk's inbound call.
 */

const credentialsKey = randomBytes(32);
const CONTACT_USER = `tr-${randomBytes(6).toString('hex')}`;
const certificate = selfSignedCertificate();
let stack: CallStack;
let carrier: KamailioRegistrar;
let bobPort: number;
let trunkId = '';

beforeAll(async () => {
  if (skipOnEngine('no TLS listener in the drachtio-server harness')) return;
  carrier = await startKamailioRegistrar(certificate, { acme: 'trunk-secret' });
  stack = await startCallStack(
    { bob: 'bob-secret' },
    { ringTimeout: 10 },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      await addPrimaryNumber(prisma, subscribers.get('bob') ?? '', '+4930222222');
      // The domain's country code (49) makes the carrier's +4930222222 bob's number.
      await addOutboundRewrite(prisma, tenant.domainId);
      const group = await prisma.peeringGroup.create({ data: { name: 'tls-carrier' } });
      trunkId = (
        await prisma.peerGateway.create({
          data: {
            groupId: group.id,
            name: 'tls-trunk',
            // Not where calls come from (Kamailio shares 127.0.0.1 with the phones): the contact names the trunk.
            host: '127.0.0.13',
            port: carrier.tlsPort,
            transport: 'tls',
            priority: 50,
            weight: 0,
            registerEnabled: true,
            registrarUri: `sip:${CARRIER_REALM}`,
            registerOutboundProxy: `127.0.0.1:${carrier.tlsPort}`,
            registerTransport: 'tls',
            registerUsername: 'acme',
            registerPasswordSealed: seal(credentialsKey, 'trunk-secret', GATEWAY_REGISTER_CONTEXT),
            registerRealm: CARRIER_REALM,
            registerExpires: 60,
            registerContactUser: CONTACT_USER,
          },
        })
      ).id;
    },
    {
      push: { credentialsKey },
      listeners: { transports: ['udp', 'tls'], tls: certificate, outboundTlsCa: certificate.cert },
      trunks: { answerTimeoutMs: 5_000, timing: { retryBaseMs: 500, retryMaxMs: 2_000 } },
    },
  );
  bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
}, 60_000);

afterAll(async () => {
  if (stack) await closeCallStack(stack);
  await carrier?.stop();
}, 30_000);

/** Polls until `check` holds (bounded); returns what it last saw. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  expect(check(value), `condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`).toBe(true);
  return value;
}

describe.skipIf(skipOnEngine('no TLS listener in the drachtio-server harness'))(
  onEngine('trunk registration over TLS', 'no TLS listener in the drachtio-server harness'),
  () => {
    it("registers over TLS to Kamailio with digest; the carrier's call to the contact is the trunk's", async () => {
      const status = await eventually(
        () => stack.testDb.db.prisma.peerGatewayStatus.findUnique({ where: { gatewayId: trunkId } }),
        (s) => s?.registration === 'registered',
      );
      expect(status?.registrationError).toBeNull();
      // Kamailio challenged a REGISTER over TLS and accepted the one with our digest.
      const registers = carrier.seen().filter((line) => line.includes('CARRIER-SAW REGISTER'));
      expect(registers.length).toBeGreaterThanOrEqual(2);
      expect(registers.every((line) => line.includes('proto=tls'))).toBe(true);
      expect(registers.some((line) => line.includes('auth=[Digest'))).toBe(true);
      // Its location table holds our contact, reachable over TLS.
      const locations = carrier.locations();
      expect(locations).toContain(`sip:${CONTACT_USER}@`);
      expect(locations).toMatch(/transport=tls/i);

      // The carrier sends a call for the trunk's user (over UDP to Kamailio): Kamailio relays it to our
      // contact over TLS, sip-core takes it as the trunk's inbound call to the DID in To.
      const bob = runSipp({ scenario: 'uas-answer.xml', port: bobPort, timeoutS: 20 });
      await bob.listening();
      const before = await stack.testDb.db.prisma.cdr.count();
      const caller = runSipp({
        scenario: 'uac-trunk-call.xml',
        port: await allocatePort(),
        remote: `127.0.0.1:${carrier.udpPort}`,
        fields: ['+4930999999', 'acme', DOMAIN, '+4930222222'],
        timeoutS: 20,
      });
      const [c, b] = await Promise.all([caller.done, bob.done]);
      expectSippOk(c, 'carrier caller');
      expectSippOk(b, 'bob');
      expect(carrier.seen().some((line) => line.includes(`CARRIER-CALL to sip:${CONTACT_USER}@`))).toBe(true);
      expect(await completedCdr(stack, before)).toMatchObject({
        direction: 'inbound',
        peerGatewayId: trunkId,
        calleeSubscriberId: stack.subscribers.get('bob'),
      });
    }, 60_000);
  },
);
