import type { ActiveCall } from '@switchboard/api';
import type { PrismaClient } from '@switchboard/db';
import type { RunningSipCore } from '@switchboard/sip-core';

/**
 * sip-core's live calls as the API shows them: this process's and, when clustered, those the other
 * workers and nodes announce. The API filters calls by tenant, so each call carries the customers of
 * its subscribers; that lookup happens per API request, never on the SIP path.
 */
export async function activeCallsForApi(
  sipCore: RunningSipCore | undefined,
  prisma: PrismaClient,
): Promise<ActiveCall[]> {
  const calls = (sipCore?.liveCalls() ?? []).filter((c) => c.state !== 'ended');
  const subscriberIds = [
    ...new Set(
      calls.flatMap((c) => [c.callerSubscriberId, c.calleeSubscriberId]).filter((id) => id !== undefined),
    ),
  ];
  const customerOf = new Map(
    subscriberIds.length === 0
      ? []
      : (
          await prisma.subscriber.findMany({
            where: { id: { in: subscriberIds } },
            select: { id: true, customerId: true },
          })
        ).map((s) => [s.id, s.customerId] as const),
  );
  return calls.map((c) => ({
    id: c.callId,
    callId: c.callId,
    direction: c.direction,
    state: c.state === 'early' ? 'ringing' : c.state === 'answered' ? 'answered' : 'trying',
    caller: c.caller,
    callee: c.callee,
    startedAt: c.startedAt,
    answeredAt: c.answeredAt ?? null,
    callerSubscriberId: c.callerSubscriberId ?? null,
    calleeSubscriberId: c.calleeSubscriberId ?? null,
    callerCustomerId: c.callerSubscriberId ? (customerOf.get(c.callerSubscriberId) ?? null) : null,
    calleeCustomerId: c.calleeSubscriberId ? (customerOf.get(c.calleeSubscriberId) ?? null) : null,
    callerWithheld: c.callerWithheld,
    codecs: c.codecs,
    mediaRelay: c.relay,
    node: c.node,
  }));
}
