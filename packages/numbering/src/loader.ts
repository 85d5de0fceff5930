import { type PrismaClient, readInPages } from '@switchboard/db';
import type { NumberingData, SubscriberData } from './types.ts';

/** Interactive transactions on a large snapshot may take a while (500,000 peering rules: seconds). */
const LOAD_TIMEOUT_MS = 120_000;

/**
 * Reads everything the number mapper needs in one repeatable-read transaction, so the snapshot is
 * consistent (no number pointing at a subscriber that a concurrent change already removed).
 * Terminated subscribers and their numbers are left out: they no longer receive calls.
 */
export async function loadNumberingData(prisma: PrismaClient): Promise<NumberingData> {
  return prisma.$transaction(
    async (tx) => {
      const [domains, subscribers, numbers, ruleSets, rules, groups, gateways, peeringRules] = [
        await tx.domain.findMany({
          select: {
            id: true,
            name: true,
            countryCode: true,
            nationalPrefix: true,
            internationalPrefix: true,
            areaCode: true,
            rewriteRuleSetId: true,
          },
          orderBy: { id: 'asc' },
        }),
        await readAll((after, take) =>
          tx.subscriber.findMany({
            where: { status: { not: 'terminated' }, ...(after === undefined ? {} : { id: { gt: after } }) },
            select: {
              id: true,
              domainId: true,
              username: true,
              clir: true,
              rewriteRuleSetId: true,
              allowedCalleePrefixes: true,
              blockedCalleePrefixes: true,
            },
            orderBy: { id: 'asc' },
            take,
          }),
        ),
        await readAll((after, take) =>
          tx.phoneNumber.findMany({
            where: {
              OR: [
                { subscriber: { status: { not: 'terminated' } } },
                { huntGroupId: { not: null } },
                { autoAttendantId: { not: null } },
              ],
              ...(after === undefined ? {} : { id: { gt: after } }),
            },
            select: {
              id: true,
              e164: true,
              subscriberId: true,
              huntGroupId: true,
              autoAttendantId: true,
              isPrimary: true,
            },
            orderBy: { id: 'asc' },
            take,
          }),
        ),
        await tx.rewriteRuleSet.findMany({ select: { id: true, name: true }, orderBy: { id: 'asc' } }),
        await tx.rewriteRule.findMany({
          select: {
            id: true,
            ruleSetId: true,
            direction: true,
            field: true,
            matchPattern: true,
            replacement: true,
            priority: true,
            enabled: true,
          },
          orderBy: [{ ruleSetId: 'asc' }, { priority: 'asc' }, { id: 'asc' }],
        }),
        await tx.peeringGroup.findMany({
          select: { id: true, name: true, priority: true, enabled: true, rewriteRuleSetId: true },
          orderBy: { id: 'asc' },
        }),
        await tx.peerGateway.findMany({
          select: {
            id: true,
            groupId: true,
            name: true,
            host: true,
            port: true,
            transport: true,
            priority: true,
            weight: true,
            enabled: true,
            trustedSources: true,
          },
          orderBy: { id: 'asc' },
        }),
        await tx.peeringRule.findMany({
          select: {
            id: true,
            groupId: true,
            calleePrefix: true,
            callerPattern: true,
            priority: true,
            enabled: true,
          },
          orderBy: { id: 'asc' },
        }),
      ];
      const domainIds = new Map(domains.map((domain) => [domain.id, domain.id]));
      const rulesBySet = new Map<string, typeof rules>();
      for (const rule of rules) {
        const list = rulesBySet.get(rule.ruleSetId) ?? [];
        list.push(rule);
        rulesBySet.set(rule.ruleSetId, list);
      }
      return {
        domains,
        subscribers: subscribers.map((subscriber) => withoutCopies(subscriber, domainIds)),
        numbers,
        rewriteRuleSets: ruleSets.map((set) => ({
          ...set,
          rules: (rulesBySet.get(set.id) ?? []).map(({ ruleSetId: _, ...rule }) => rule),
        })),
        peeringGroups: groups,
        gateways,
        peeringRules,
      };
    },
    { isolationLevel: 'RepeatableRead', timeout: LOAD_TIMEOUT_MS, maxWait: 10_000 },
  );
}

/** Every row `readPage` gives, read in pages (see `readInPages`): the whole result is never held twice. */
async function readAll<Row extends { id: string }>(
  readPage: (after: string | undefined, take: number) => Promise<Row[]>,
): Promise<Row[]> {
  const rows: Row[] = [];
  await readInPages(readPage, (row) => rows.push(row));
  return rows;
}

const NO_PREFIXES = Object.freeze([]) as unknown as string[];

/**
 * A subscriber as the index keeps it, sharing what repeats across many of them: its domain's id
 * string and the empty prefix lists (at a million subscribers the copies cost some 100 MB). One
 * literal with every field, not a spread of the database row: with the spread the index held 320
 * bytes more per subscriber (measured at 100,000 with the scale bench).
 */
function withoutCopies(
  row: Omit<SubscriberData, 'areaCode'>,
  domainIds: ReadonlyMap<string, string>,
): SubscriberData {
  return {
    id: row.id,
    domainId: domainIds.get(row.domainId) ?? row.domainId,
    username: row.username,
    clir: row.clir,
    rewriteRuleSetId: row.rewriteRuleSetId,
    areaCode: null,
    allowedCalleePrefixes: row.allowedCalleePrefixes.length === 0 ? NO_PREFIXES : row.allowedCalleePrefixes,
    blockedCalleePrefixes: row.blockedCalleePrefixes.length === 0 ? NO_PREFIXES : row.blockedCalleePrefixes,
  };
}
