import type { Tx } from '../audit.ts';

/**
 * Re-rating: after a profile or deck change, the CDRs of a period go back to `unrated` and the rater
 * prices them again with the plan in effect (their `rating_count` goes up by one). Prices stay readable
 * until the rater rewrites them. Bounded by the period; the caller names it.
 */
export interface RerateScope {
  from: Date;
  to: Date;
  customerId?: string;
  resellerId?: string;
  peeringGroupId?: string;
}

export async function markForRerating(prisma: Tx, scope: RerateScope): Promise<number> {
  const { count } = await prisma.cdr.updateMany({
    where: {
      startedAt: { gte: scope.from, lt: scope.to },
      ratingStatus: { not: 'unrated' },
      ...(scope.customerId ? { callerCustomerId: scope.customerId } : {}),
      ...(scope.resellerId ? { callerCustomer: { resellerId: scope.resellerId } } : {}),
      ...(scope.peeringGroupId ? { peerGateway: { groupId: scope.peeringGroupId } } : {}),
    },
    data: { ratingStatus: 'unrated' },
  });
  return count;
}
