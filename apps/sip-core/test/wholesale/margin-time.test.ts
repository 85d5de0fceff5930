import type { RouteTarget } from '@switchboard/numbering';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WholesaleIndex } from '../../src/wholesale/wholesale-index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * Margin protection compares the rates that apply at the call's time (docs/billing.md, "Carrier
 * customers"): the carrier customer's sell profile is peak Monday to Friday 08:00-18:00 in
 * Europe/Vienna (0.020 per minute, 0.008 off-peak); the cheap carrier's cost profile charges 0.010 all
 * day. At 07:30 UTC on a Monday it is 08:30 in Vienna, peak, so the cheap route is kept (read in UTC it
 * would be off-peak); at 17:30 UTC it is 18:30 there, off-peak, and the route costs more than the sale.
 */

const log = pino({ level: 'silent' });
let created: TestDatabase;
let customerId: string;
let cheapGroup: string;
let now = new Date('2026-12-07T07:30:00Z');
let index: WholesaleIndex;

const route = (groupId: string, gatewayId: string): RouteTarget => ({
  gatewayId,
  gatewayName: gatewayId,
  groupId,
  groupName: groupId,
  host: '127.0.0.1',
  port: 5060,
  transport: 'udp',
  ruleId: 'r',
  calleePrefix: '49',
});

beforeAll(async () => {
  created = await createTestDatabase();
  const prisma = created.db.prisma;
  const profile = async (kind: 'sell' | 'cost', timeZone: string, peak: string, offPeak: string) => {
    const p = await prisma.billingProfile.create({
      data: {
        name: `${kind} ${timeZone}`,
        kind,
        currency: 'EUR',
        timeZone,
        ...(kind === 'sell'
          ? {
              peakTimes: {
                create: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, startMinute: 480, endMinute: 1080 })),
              },
            }
          : {}),
      },
    });
    const deck = await prisma.rateDeck.create({
      data: { profileId: p.id, version: 1, effectiveFrom: new Date(0), rowCount: 1 },
    });
    await prisma.rate.create({
      data: { deckId: deck.id, prefix: '49', zone: 'Germany', peakRate: peak, offPeakRate: offPeak },
    });
    return p.id;
  };
  const sell = await profile('sell', 'Europe/Vienna', '0.02', '0.008');
  const cost = await profile('cost', 'UTC', '0.01', '0.01');
  const customer = await prisma.customer.create({ data: { name: 'carrier', billingProfileId: sell } });
  customerId = customer.id;
  const group = await prisma.peeringGroup.create({ data: { name: 'cheap', costProfileId: cost } });
  cheapGroup = group.id;
  await prisma.customerBillingSettings.create({ data: { customerId, carrier: true } });
  index = new WholesaleIndex(prisma, log, () => now);
  await index.load();
}, 60_000);

afterAll(async () => {
  await created?.drop();
});

describe('margin protection by time of day', () => {
  it("keeps the cheap route in the sell profile's peak hours, read in its time zone", () => {
    now = new Date('2026-12-07T07:30:00Z');
    const routes = [route(cheapGroup, 'gw-cheap'), route('other', 'gw-other')];
    expect(index.routesFor(customerId, '+4930123456', routes).map((r) => r.gatewayId)).toEqual([
      'gw-cheap',
      'gw-other',
    ]);
  });

  it('skips it off-peak, when the sell rate is below its cost', () => {
    now = new Date('2026-12-07T17:30:00Z');
    const routes = [route(cheapGroup, 'gw-cheap'), route('other', 'gw-other')];
    expect(index.routesFor(customerId, '+4930123456', routes).map((r) => r.gatewayId)).toEqual(['gw-other']);
    // Saturday at noon is off-peak too (the peak periods are Monday to Friday).
    now = new Date('2026-12-12T12:00:00Z');
    expect(index.routesFor(customerId, '+4930123456', routes).map((r) => r.gatewayId)).toEqual(['gw-other']);
  });
});
