import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../auth/authenticate.ts';
import { listArgs, listQuerySchema, PageOf } from '../list.ts';
import { Nullable, Timestamp } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import { type ActiveCall, ROLES } from '../types.ts';
import { ANONYMOUS_CALLER, Direction } from './cdrs.ts';
import type { RouteOptions } from './options.ts';

/** Calls in progress, as the nodes report them (not stored). */

const everyone = ROLES;

export const Call = Type.Object({
  id: Type.String(),
  callId: Type.String(),
  direction: Direction,
  state: Type.Enum(['trying', 'ringing', 'answered']),
  caller: Type.String(),
  callee: Type.String(),
  startedAt: Timestamp,
  answeredAt: Nullable(Timestamp),
  callerSubscriberId: Nullable(Type.String()),
  calleeSubscriberId: Nullable(Type.String()),
  callerCustomerId: Nullable(Type.String()),
  calleeCustomerId: Nullable(Type.String()),
  callerWithheld: Type.Boolean({
    description:
      "The callee is shown an anonymous caller. Seen only from the callee's side, the caller fields then read `anonymous` and null.",
  }),
  node: Nullable(Type.String()),
});

/**
 * A live call as the principal may see it: like a CDR (`cdrItem`), a withheld caller is masked for
 * whoever sees the call only from the callee's side. `mine` is the principal's customers; undefined for
 * the operator.
 */
function toCall(c: ActiveCall, mine: ReadonlySet<string> | undefined) {
  const masked =
    c.callerWithheld === true &&
    mine !== undefined &&
    !(c.callerCustomerId != null && mine.has(c.callerCustomerId));
  return {
    ...c,
    caller: masked ? ANONYMOUS_CALLER : c.caller,
    callerWithheld: c.callerWithheld ?? false,
    startedAt: new Date(c.startedAt).toISOString(),
    answeredAt: c.answeredAt ? new Date(c.answeredAt).toISOString() : null,
    callerSubscriberId: masked ? null : (c.callerSubscriberId ?? null),
    calleeSubscriberId: c.calleeSubscriberId ?? null,
    callerCustomerId: masked ? null : (c.callerCustomerId ?? null),
    calleeCustomerId: c.calleeCustomerId ?? null,
    node: c.node ?? null,
  };
}

export async function callRoutes(
  fastify: FastifyInstance,
  { prisma, activeCalls }: RouteOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/calls',
    {
      config: { roles: everyone },
      schema: {
        tags: ['live'],
        operationId: 'listCalls',
        summary: 'List calls in progress',
        querystring: listQuerySchema({ sortable: ['startedAt'], defaultSort: '-startedAt' }),
        response: { 200: PageOf(Call) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const q = request.query;
      const args = listArgs(q, { sortable: ['startedAt'], defaultSort: '-startedAt' });
      let calls = await activeCalls();
      let mine: Set<string> | undefined;
      if (principal.role !== 'operator') {
        const customers = await prisma.customer.findMany({
          where: scopes.customer(principal),
          select: { id: true },
        });
        const own = new Set(customers.map((c) => c.id));
        mine = own;
        calls = calls.filter(
          (c) =>
            (c.callerCustomerId != null && own.has(c.callerCustomerId)) ||
            (c.calleeCustomerId != null && own.has(c.calleeCustomerId)),
        );
      }
      const asc = Object.values(args.orderBy[0] ?? {})[0] === 'asc';
      calls.sort(
        (a, b) => (new Date(a.startedAt).getTime() - new Date(b.startedAt).getTime()) * (asc ? 1 : -1),
      );
      return {
        items: calls.slice(args.skip, args.skip + args.take).map((c) => toCall(c, mine)),
        page: args.page,
        perPage: args.perPage,
        total: calls.length,
      };
    },
  );
}
