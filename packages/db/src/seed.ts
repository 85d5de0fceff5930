import { generateSecret, sipHa1 } from './credentials.ts';
import type { PrismaClient } from './generated/prisma/client.ts';

export const DEMO_RESELLER = 'Demo Reseller';
export const DEMO_CUSTOMER = 'Demo Customer';
export const DEMO_DOMAIN = 'demo.switchboard.test';

/** The demo subscribers and their primary numbers (Austria +43, Vienna area code 1). */
const DEMO_SUBSCRIBERS = [
  { username: 'alice', displayName: 'Alice', countryCode: '43', areaCode: '1', subscriberNumber: '1001' },
  { username: 'bob', displayName: 'Bob', countryCode: '43', areaCode: '1', subscriberNumber: '1002' },
] as const;

export interface SeedOptions {
  /**
   * SIP password for every demo subscriber, set on new and existing ones alike. Without it, new
   * subscribers get a random password and existing ones keep theirs (it cannot be read back).
   */
  password?: string | undefined;
}

export interface SeededSubscriber {
  id: string;
  username: string;
  domain: string;
  /** The SIP password, or null for an existing subscriber whose password was kept. */
  password: string | null;
  /** Primary number, E.164 with `+`. */
  number: string;
  created: boolean;
}

export interface SeedResult {
  resellerId: string;
  customerId: string;
  domainId: string;
  subscribers: SeededSubscriber[];
}

/**
 * Creates the demo tenant: reseller, customer, domain `demo.switchboard.test` (self sign-up,
 * dialling defaults for Vienna) and subscribers alice (+4311001) and bob (+4311002).
 * Idempotent: running it again finds the same rows and creates nothing new.
 */
export async function seedDemo(prisma: PrismaClient, options: SeedOptions = {}): Promise<SeedResult> {
  return prisma.$transaction(async (tx) => {
    const reseller = await tx.reseller.upsert({
      where: { name: DEMO_RESELLER },
      create: { name: DEMO_RESELLER },
      update: {},
    });
    const customer =
      (await tx.customer.findFirst({ where: { resellerId: reseller.id, name: DEMO_CUSTOMER } })) ??
      (await tx.customer.create({
        data: { resellerId: reseller.id, name: DEMO_CUSTOMER, maxConcurrentCalls: 10, maxSubscribers: 100 },
      }));
    const domain = await tx.domain.upsert({
      where: { name: DEMO_DOMAIN },
      create: {
        name: DEMO_DOMAIN,
        resellerId: reseller.id,
        selfSignup: true,
        countryCode: '43',
        nationalPrefix: '0',
        internationalPrefix: '00',
        areaCode: '1',
      },
      update: {},
    });

    const subscribers: SeededSubscriber[] = [];
    for (const demo of DEMO_SUBSCRIBERS) {
      const existing = await tx.subscriber.findUnique({
        where: { domainId_username: { domainId: domain.id, username: demo.username } },
      });
      const password = options.password ?? (existing ? null : generateSecret(16));
      const digests = password === null ? {} : sipHa1(demo.username, domain.name, password);
      const subscriber = existing
        ? await tx.subscriber.update({ where: { id: existing.id }, data: digests })
        : await tx.subscriber.create({
            data: {
              customerId: customer.id,
              domainId: domain.id,
              username: demo.username,
              displayName: demo.displayName,
              ...sipHa1(demo.username, domain.name, password!),
            },
          });

      const e164 = `+${demo.countryCode}${demo.areaCode}${demo.subscriberNumber}`;
      await tx.phoneNumber.upsert({
        where: { e164 },
        create: {
          subscriberId: subscriber.id,
          e164,
          countryCode: demo.countryCode,
          areaCode: demo.areaCode,
          subscriberNumber: demo.subscriberNumber,
          isPrimary: true,
        },
        update: {},
      });
      subscribers.push({
        id: subscriber.id,
        username: demo.username,
        domain: domain.name,
        password,
        number: e164,
        created: !existing,
      });
    }
    return { resellerId: reseller.id, customerId: customer.id, domainId: domain.id, subscribers };
  });
}
