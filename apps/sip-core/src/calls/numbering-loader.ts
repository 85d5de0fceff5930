import type { PrismaClient } from '@switchboard/db';
import type { NumberingData } from '@switchboard/numbering';

/**
 * Reads what the number mapper needs (domains' dial plans, subscribers, numbers, rewrite rules,
 * peering groups, gateways and rules) into the snapshot `NumberingIndex.replace` takes.
 */
export async function loadNumberingData(prisma: PrismaClient): Promise<NumberingData> {
  const [domains, subscribers, numbers, ruleSets, groups, gateways, rules] = await Promise.all([
    prisma.domain.findMany(),
    prisma.subscriber.findMany({
      select: {
        id: true,
        domainId: true,
        username: true,
        clir: true,
        rewriteRuleSetId: true,
        allowedCalleePrefixes: true,
        blockedCalleePrefixes: true,
      },
    }),
    prisma.phoneNumber.findMany({ select: { id: true, e164: true, subscriberId: true, isPrimary: true } }),
    prisma.rewriteRuleSet.findMany({ include: { rules: true } }),
    prisma.peeringGroup.findMany(),
    prisma.peerGateway.findMany(),
    prisma.peeringRule.findMany(),
  ]);
  return {
    domains: domains.map((d) => ({
      id: d.id,
      name: d.name,
      countryCode: d.countryCode,
      nationalPrefix: d.nationalPrefix,
      internationalPrefix: d.internationalPrefix,
      areaCode: d.areaCode,
      rewriteRuleSetId: d.rewriteRuleSetId,
    })),
    subscribers: subscribers.map((s) => ({ ...s, areaCode: null })),
    numbers,
    rewriteRuleSets: ruleSets.map((set) => ({
      id: set.id,
      name: set.name,
      rules: set.rules.map((r) => ({
        id: r.id,
        direction: r.direction,
        field: r.field,
        matchPattern: r.matchPattern,
        replacement: r.replacement,
        priority: r.priority,
        enabled: r.enabled,
      })),
    })),
    peeringGroups: groups.map((g) => ({
      id: g.id,
      name: g.name,
      priority: g.priority,
      enabled: g.enabled,
      rewriteRuleSetId: null,
    })),
    gateways: gateways.map((g) => ({
      id: g.id,
      groupId: g.groupId,
      name: g.name,
      host: g.host,
      port: g.port,
      transport: g.transport,
      priority: g.priority,
      weight: g.weight,
      enabled: g.enabled,
    })),
    peeringRules: rules.map((r) => ({
      id: r.id,
      groupId: r.groupId,
      calleePrefix: r.calleePrefix,
      callerPattern: r.callerPattern,
      priority: r.priority,
      enabled: r.enabled,
    })),
  };
}
