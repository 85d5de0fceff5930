import type { PrismaClient } from '@switchboard/db';
import type { NumberingData } from './types.ts';

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
        await tx.subscriber.findMany({
          where: { status: { not: 'terminated' } },
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
        }),
        await tx.phoneNumber.findMany({
          where: { subscriber: { status: { not: 'terminated' } } },
          select: { id: true, e164: true, subscriberId: true, isPrimary: true },
          orderBy: { id: 'asc' },
        }),
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
      const rulesBySet = new Map<string, typeof rules>();
      for (const rule of rules) {
        const list = rulesBySet.get(rule.ruleSetId) ?? [];
        list.push(rule);
        rulesBySet.set(rule.ruleSetId, list);
      }
      return {
        domains,
        subscribers: subscribers.map((subscriber) => ({ ...subscriber, areaCode: null })),
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
