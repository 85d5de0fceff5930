import type { PrismaClient } from '@switchboard/db';
import type { ActiveCalls, Admission } from './active-calls.ts';

/** A subscriber as the concurrency limits and the duration cap see it. */
export interface Party {
  id: string;
  customerId: string;
  maxConcurrentCalls: number | null;
  customer: { maxConcurrentCalls: number | null; maxCallDuration: number | null };
}

export type PartyLoader = (subscriberId: string) => Promise<Party | null>;

export function partyLoader(prisma: PrismaClient): PartyLoader {
  return (id) =>
    prisma.subscriber.findUnique({
      where: { id },
      select: {
        id: true,
        customerId: true,
        maxConcurrentCalls: true,
        customer: { select: { maxConcurrentCalls: true, maxCallDuration: true } },
      },
    });
}

/**
 * Whether one more call for `party` fits its subscriber's and its customer's limits; `callId`: a call
 * already counted for some parties (a forwarded call reaching another subscriber).
 */
export function admitParty(calls: ActiveCalls, party: Party, callId?: string): Admission {
  return calls.admit(
    party.id,
    party.customerId,
    { subscriberMax: party.maxConcurrentCalls, customerMax: party.customer.maxConcurrentCalls },
    callId,
  );
}
