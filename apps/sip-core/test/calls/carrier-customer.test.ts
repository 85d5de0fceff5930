import { startRater } from '@switchboard/api';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { allocatePort, runSipp } from './support/sipp.ts';
import { type CallStack, closeCallStack, completedCdr, DOMAIN, startCallStack } from './support/stack.ts';

/**
 * A carrier customer (docs/billing.md): its PBX sends calls from 127.0.0.9, a trusted source of its
 * IP-authenticated trunk, without digest. Two peering groups route 49: "cheap" (gateway 127.0.0.7,
 * tried first) costs 0.0300/min to German mobiles, above the customer's sell price of 0.0200/min;
 * "premium" (127.0.0.8) costs 0.0150/min. Margin protection (on by default for a carrier customer)
 * skips "cheap"; the CDR is the customer's and the rater prices it with its profile. Then the
 * credit limit refuses the next call with 402 once the rater's notice brings the running total over
 * it, and with protection off the call takes "cheap".
 */

const CALLEE = '+4915112345678';
const TRUNK_ADDRESS = '127.0.0.9';
let stack: CallStack;
let cheapPort: number;
let premiumPort: number;
const ids: Record<string, string> = {};

beforeAll(async () => {
  cheapPort = await allocatePort();
  premiumPort = await allocatePort();
  stack = await startCallStack(
    { pbx: 'pbx-secret-unused' },
    { ringTimeout: 10 },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      const profile = async (name: string, kind: 'sell' | 'cost', rates: [string, string, string][]) => {
        const created = await prisma.billingProfile.create({ data: { name, kind, currency: 'EUR' } });
        await prisma.rateDeck.create({
          data: {
            profileId: created.id,
            version: 1,
            effectiveFrom: new Date('2026-01-01T00:00:00Z'),
            rowCount: rates.length,
            rates: {
              create: rates.map(([prefix, zone, rate]) => ({
                prefix,
                zone,
                peakRate: rate,
                offPeakRate: rate,
                firstInterval: 1,
                nextInterval: 1,
              })),
            },
          },
        });
        return created.id;
      };
      ids.sell = await profile('Wholesale', 'sell', [
        ['49', 'Germany', '0.025'],
        ['4915', 'Germany mobile', '0.020'],
      ]);
      const cheapCost = await profile('Cheap carrier', 'cost', [['49', 'Germany', '0.030']]);
      const premiumCost = await profile('Premium carrier', 'cost', [['49', 'Germany', '0.015']]);
      const group = async (
        name: string,
        priority: number,
        costProfileId: string,
        host: string,
        port: number,
      ) => {
        const g = await prisma.peeringGroup.create({ data: { name, priority, costProfileId } });
        await prisma.peeringRule.create({ data: { groupId: g.id, calleePrefix: '49' } });
        return (await prisma.peerGateway.create({ data: { groupId: g.id, name: `gw-${name}`, host, port } }))
          .id;
      };
      ids.cheap = await group('cheap', 1, cheapCost, '127.0.0.7', cheapPort);
      ids.premium = await group('premium', 2, premiumCost, '127.0.0.8', premiumPort);
      ids.customer = tenant.customerId;
      ids.pbx = subscribers.get('pbx') ?? '';
      await prisma.customer.update({
        where: { id: tenant.customerId },
        data: { billingProfileId: ids.sell },
      });
      await prisma.customerBillingSettings.create({ data: { customerId: tenant.customerId, carrier: true } });
      await prisma.customerTrunk.create({
        data: {
          customerId: tenant.customerId,
          subscriberId: ids.pbx,
          name: 'pbx',
          trustedSources: [TRUNK_ADDRESS],
        },
      });
    },
  );
}, 60_000);

afterAll(() => closeCallStack(stack), 30_000);

/**
 * The trunk calls CALLEE; `cheap` and `premium` are the gateways' scenarios. Resolves with the CDR
 * and whether each gateway's sipp ran its scenario to the end (a gateway never reached is stopped).
 */
async function trunkCall(cheap: string, premium: string) {
  const before = await stack.testDb.db.prisma.cdr.count();
  const gateways = {
    cheap: runSipp({ scenario: cheap, port: cheapPort, localIp: '127.0.0.7', timeoutS: 20 }),
    premium: runSipp({ scenario: premium, port: premiumPort, localIp: '127.0.0.8', timeoutS: 20 }),
  };
  await Promise.all([gateways.cheap.listening(), gateways.premium.listening()]);
  const pbx = runSipp({
    scenario: 'uac-peer-call.xml',
    port: await allocatePort(),
    localIp: TRUNK_ADDRESS,
    remote: stack.sipAddress,
    fields: ['+4930999000', 'unused', DOMAIN, CALLEE],
    timeoutS: 20,
  });
  const pbxOk = (await pbx.done).code === 0;
  const cdr = await completedCdr(stack, before);
  gateways.cheap.stop();
  gateways.premium.stop();
  const [c, p] = await Promise.all([gateways.cheap.done, gateways.premium.done]);
  return { pbxOk, cdr, cheapRan: c.code === 0, premiumRan: p.code === 0 };
}

async function rate(): Promise<number> {
  const rater = await startRater(stack.testDb.db, pino({ level: 'silent' }), { poll: false });
  const n = await rater.drain();
  await rater.stop();
  return n;
}

describeOnEngine(onEngine('carrier customers'), () => {
  it('a call from the trunk is the customer’s; margin protection skips the gateway costing more than the sell price', async () => {
    const { pbxOk, cdr, cheapRan, premiumRan } = await trunkCall(
      'uas-unavailable.xml',
      'uas-carrier-gateway.xml',
    );
    expect(pbxOk).toBe(true);
    expect(cheapRan).toBe(false);
    expect(premiumRan).toBe(true);
    expect(cdr).toMatchObject({
      direction: 'outbound',
      disposition: 'answered',
      callerSubscriberId: ids.pbx,
      callerCustomerId: ids.customer,
      peerGatewayId: ids.premium,
      sourceAddress: expect.stringMatching(/^udp:127\.0\.0\.9:\d+$/),
    });
    // The credit limit is below what this call will cost; it is not rated yet, so nothing is spent.
    await stack.testDb.db.prisma.customerBillingSettings.update({
      where: { customerId: ids.customer },
      data: { creditLimit: '0.000001' },
    });
    expect(await rate()).toBe(1);
    const rated = await stack.testDb.db.prisma.cdr.findUniqueOrThrow({ where: { id: cdr.id } });
    const seconds = Math.ceil(rated.durationMs / 1000);
    expect(seconds).toBeGreaterThan(0);
    expect(rated).toMatchObject({
      ratingStatus: 'rated',
      customerZone: 'Germany mobile',
      carrierZone: 'Germany',
    });
    // 0.020/min and 0.015/min by the second.
    expect(rated.customerPrice?.toFixed(6)).toBe(((seconds * 20_000) / 60 / 1e6).toFixed(6));
    expect(rated.carrierCost?.toFixed(6)).toBe(((seconds * 15_000) / 60 / 1e6).toFixed(6));
  }, 90_000);

  it('refuses the next call with 402 once the rated spending reaches the credit limit', async () => {
    const before = await stack.testDb.db.prisma.cdr.count();
    // The rater's notice reaches sip-core through the database; bounded retries while it travels.
    let refused = false;
    for (let attempt = 0; attempt < 10 && !refused; attempt++) {
      const pbx = runSipp({
        scenario: 'uac-peer-call-payment.xml',
        port: await allocatePort(),
        localIp: TRUNK_ADDRESS,
        remote: stack.sipAddress,
        fields: ['+4930999000', 'unused', DOMAIN, CALLEE],
        timeoutS: 5,
      });
      refused = (await pbx.done).code === 0;
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(refused).toBe(true);
    // The refusal's CDR is written right after the response: bounded wait for it.
    let cdr = null;
    for (let i = 0; i < 100 && !cdr; i++) {
      cdr = await stack.testDb.db.prisma.cdr.findFirst({
        where: { sipCode: 402 },
        orderBy: { createdAt: 'desc' },
      });
      if (!cdr) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(cdr).toMatchObject({ callerCustomerId: ids.customer, disposition: 'failed', peerGatewayId: null });
    expect(await stack.testDb.db.prisma.cdr.count()).toBeGreaterThan(before);
  }, 120_000);

  it('with margin protection off, LCR uses the gateway whose cost is above the sell price', async () => {
    await stack.testDb.db.prisma.customerBillingSettings.update({
      where: { customerId: ids.customer },
      data: { creditLimit: null, marginProtection: false },
    });
    // The index reloads on the change feed; bounded retries until the new settings are in effect.
    let result = await trunkCall('uas-carrier-gateway.xml', 'uas-carrier-gateway.xml');
    for (
      let attempt = 0;
      attempt < 5 && !(result.pbxOk && result.cdr.peerGatewayId === ids.cheap);
      attempt++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      result = await trunkCall('uas-carrier-gateway.xml', 'uas-carrier-gateway.xml');
    }
    expect(result.cdr).toMatchObject({
      peerGatewayId: ids.cheap,
      callerCustomerId: ids.customer,
      disposition: 'answered',
    });
    expect(result.pbxOk).toBe(true);
    expect(result.cheapRan).toBe(true);
    expect(result.premiumRan).toBe(false);
  }, 180_000);
});
