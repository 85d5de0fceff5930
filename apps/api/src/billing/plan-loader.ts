import type { PrismaClient } from '@switchboard/db';
import type { Tx } from '../audit.ts';
import { loadDeckRates } from './deck-store.ts';
import { RatingPlan } from './plan.ts';

/**
 * Loads the rater's plan: profiles, peak times, deck versions and the account links (small tables),
 * all at once; the rates of a deck only when a CDR needs that deck (`ensureDecks`), so old versions
 * cost memory only while CDRs of their time are rated.
 */

/** Decks kept in memory at most; the least recently loaded one is dropped first. */
const MAX_LOADED_DECKS = 16;

export async function loadPlan(prisma: PrismaClient): Promise<RatingPlan> {
  const [profiles, decks, customers, resellers, gateways] = await Promise.all([
    prisma.billingProfile.findMany({ include: { peakTimes: true } }),
    prisma.rateDeck.findMany({ select: { id: true, profileId: true, version: true, effectiveFrom: true } }),
    prisma.customer.findMany({ select: { id: true, billingProfileId: true, resellerId: true } }),
    prisma.reseller.findMany({ select: { id: true, billingProfileId: true } }),
    prisma.peerGateway.findMany({ select: { id: true, group: { select: { costProfileId: true } } } }),
  ]);
  const plan = new RatingPlan();
  for (const p of profiles)
    plan.addProfile({
      id: p.id,
      name: p.name,
      currency: p.currency,
      timeZone: p.timeZone,
      peak: p.peakTimes.map((t) => ({
        weekday: t.weekday,
        startMinute: t.startMinute,
        endMinute: t.endMinute,
      })),
    });
  for (const d of decks)
    plan.addDeckVersion(d.profileId, {
      id: d.id,
      version: d.version,
      effectiveFrom: d.effectiveFrom.getTime(),
    });
  for (const c of customers)
    plan.accounts.customers.set(c.id, { profileId: c.billingProfileId, resellerId: c.resellerId });
  for (const r of resellers) plan.accounts.resellers.set(r.id, r.billingProfileId);
  for (const g of gateways) plan.accounts.gateways.set(g.id, g.group.costProfileId);
  return plan;
}

/**
 * Loads the rates of the decks not yet in memory, through the batch's own transaction (the embedded
 * database has one connection: a query outside the open transaction would wait for it).
 */
export async function ensureDecks(prisma: Tx, plan: RatingPlan, needed: ReadonlySet<string>): Promise<void> {
  for (const id of needed) {
    if (plan.decks.has(id)) continue;
    // Drop decks this batch does not need, oldest loaded first (a Map iterates in insertion order).
    for (const loaded of plan.decks.keys()) {
      if (plan.decks.size < MAX_LOADED_DECKS) break;
      if (!needed.has(loaded)) plan.decks.delete(loaded);
    }
    plan.setDeckRates(id, await loadDeckRates(prisma, id));
  }
}
