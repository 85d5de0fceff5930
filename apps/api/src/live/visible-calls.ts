import type { PrismaClient } from '@switchboard/db';
import { scopes } from '../tenancy.ts';
import type { ActiveCall, Principal } from '../types.ts';

/** What a masked caller reads as (the user part of RFC 3323's anonymous URI). */
export const ANONYMOUS_CALLER = 'anonymous';

export interface VisibleCalls {
  calls: ActiveCall[];
  /** The principal's customers; undefined for the operator, who sees every call. */
  mine: ReadonlySet<string> | undefined;
}

/** The live calls a principal may see: a call belongs to its caller's and its callee's customers. */
export async function visibleCalls(
  prisma: PrismaClient,
  principal: Principal,
  activeCalls: () => Promise<ActiveCall[]>,
): Promise<VisibleCalls> {
  const calls = await activeCalls();
  if (principal.role === 'operator') return { calls, mine: undefined };
  const customers = await prisma.customer.findMany({
    where: scopes.customer(principal),
    select: { id: true },
  });
  const mine = new Set(customers.map((c) => c.id));
  return {
    mine,
    calls: calls.filter(
      (c) =>
        (c.callerCustomerId != null && mine.has(c.callerCustomerId)) ||
        (c.calleeCustomerId != null && mine.has(c.calleeCustomerId)),
    ),
  };
}

/**
 * A live call as the principal may see it: like a CDR, a withheld caller is masked for whoever sees the
 * call only from the callee's side. `mine` is the principal's customers; undefined for the operator.
 */
export function toCall(c: ActiveCall, mine: ReadonlySet<string> | undefined, now: number) {
  const masked =
    c.callerWithheld === true &&
    mine !== undefined &&
    !(c.callerCustomerId != null && mine.has(c.callerCustomerId));
  const answeredAt = c.answeredAt ? new Date(c.answeredAt) : null;
  return {
    ...c,
    caller: masked ? ANONYMOUS_CALLER : c.caller,
    callerWithheld: c.callerWithheld ?? false,
    startedAt: new Date(c.startedAt).toISOString(),
    answeredAt: answeredAt ? answeredAt.toISOString() : null,
    durationMs: answeredAt ? Math.max(0, now - answeredAt.getTime()) : 0,
    callerSubscriberId: masked ? null : (c.callerSubscriberId ?? null),
    calleeSubscriberId: c.calleeSubscriberId ?? null,
    callerCustomerId: masked ? null : (c.callerCustomerId ?? null),
    calleeCustomerId: c.calleeCustomerId ?? null,
    codecs: c.codecs ?? [],
    mediaRelay: c.mediaRelay ?? null,
    node: c.node ?? null,
  };
}
