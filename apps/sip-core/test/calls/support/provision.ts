import type { PrismaClient } from '@switchboard/db';

/**
 * Rows the call tests set up before sip-core starts (its caches load them once). Every test number is
 * a Berlin one (+49 30).
 */

/** Gives a subscriber `e164` (a +4930… number) as its primary number. */
export async function addPrimaryNumber(
  prisma: PrismaClient,
  subscriberId: string,
  e164: string,
): Promise<void> {
  const match = /^\+4930(\d+)$/.exec(e164);
  if (!match?.[1]) throw new Error(`not a +4930 test number: ${e164}`);
  await prisma.phoneNumber.create({
    data: {
      subscriberId,
      e164,
      countryCode: '49',
      areaCode: '30',
      subscriberNumber: match[1],
      isPrimary: true,
    },
  });
}

/**
 * Sets the domain's country code to 49 and gives it a rule set that sends E.164 callees to peers
 * with the 00 international prefix (`outbound_to_peer`).
 */
export async function addOutboundRewrite(prisma: PrismaClient, domainId: string): Promise<void> {
  const rules = await prisma.rewriteRuleSet.create({
    data: {
      name: 'to-peers',
      rules: {
        create: [
          {
            direction: 'outbound_to_peer',
            field: 'callee',
            matchPattern: '^\\+(\\d+)$',
            replacement: '00$1',
          },
        ],
      },
    },
  });
  await prisma.domain.update({
    where: { id: domainId },
    data: { rewriteRuleSetId: rules.id, countryCode: '49' },
  });
}

export interface TestGateway {
  name: string;
  /** An IP literal: every request from it is then a peer's, so never the phones' 127.0.0.1. */
  host: string;
  port: number;
  priority: number;
}

/**
 * A peering group 'carrier' with `gateways` and one rule routing every callee starting with 49 to it;
 * returns each gateway's id by its name.
 */
export async function addCarrier(
  prisma: PrismaClient,
  gateways: TestGateway[],
): Promise<Record<string, string>> {
  const group = await prisma.peeringGroup.create({ data: { name: 'carrier' } });
  const ids: Record<string, string> = {};
  for (const gateway of gateways)
    ids[gateway.name] = (await prisma.peerGateway.create({ data: { groupId: group.id, ...gateway } })).id;
  await prisma.peeringRule.create({ data: { groupId: group.id, calleePrefix: '49' } });
  return ids;
}
