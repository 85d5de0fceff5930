import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CALL_CONTROL_CHANNEL } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { notFound } from '../errors.ts';
import { type ListSpec, listArgs, listQuerySchema, PageOf } from '../list.ts';
import { toCall, visibleCalls } from '../live/visible-calls.ts';
import { Nullable, Timestamp } from '../schemas.ts';
import { ROLES } from '../types.ts';
import { Direction } from './cdrs.ts';
import type { RouteOptions } from './options.ts';

/** Calls in progress, as the SIP side reports them: listed per tenant, and hung up on request. */

const everyone = ROLES;

export const Call = Type.Object({
  id: Type.String(),
  callId: Type.String({ description: "The caller's Call-ID (the CDR's callId once the call ends)" }),
  direction: Direction,
  state: Type.Enum(['trying', 'ringing', 'answered']),
  caller: Type.String(),
  callee: Type.String(),
  startedAt: Timestamp,
  answeredAt: Nullable(Timestamp),
  durationMs: Type.Integer({ description: 'Talk time so far (0 until answered)' }),
  callerSubscriberId: Nullable(Type.String()),
  calleeSubscriberId: Nullable(Type.String()),
  callerCustomerId: Nullable(Type.String()),
  calleeCustomerId: Nullable(Type.String()),
  callerWithheld: Type.Boolean({
    description:
      "The callee is shown an anonymous caller. Seen only from the callee's side, the caller fields then read `anonymous` and null.",
  }),
  codecs: Type.Array(Type.String(), {
    description: 'Voice codecs of the answer, the one in use first (`PCMA/8000`); empty before an answer',
  }),
  mediaRelay: Nullable(
    Type.String({
      description: 'The rtpengine instance (NG address) anchoring the media; null: not anchored',
    }),
  ),
  node: Nullable(Type.String()),
});

const callList: ListSpec = { sortable: ['startedAt'], defaultSort: '-startedAt' };

export async function callRoutes(
  fastify: FastifyInstance,
  { prisma, now, activeCalls }: RouteOptions,
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
        querystring: listQuerySchema(callList),
        response: { 200: PageOf(Call) },
      },
    },
    async (request) => {
      const args = listArgs(request.query, callList);
      const { calls, mine } = await visibleCalls(prisma, principalOf(request), activeCalls);
      const asc = Object.values(args.orderBy[0] ?? {})[0] === 'asc';
      calls.sort(
        (a, b) => (new Date(a.startedAt).getTime() - new Date(b.startedAt).getTime()) * (asc ? 1 : -1),
      );
      const at = now();
      return {
        items: calls.slice(args.skip, args.skip + args.take).map((c) => toCall(c, mine, at)),
        page: args.page,
        perPage: args.perPage,
        total: calls.length,
      };
    },
  );

  app.delete(
    '/calls/:callId',
    {
      config: { roles: everyone },
      schema: {
        tags: ['live'],
        operationId: 'hangUpCall',
        summary: 'Hang up a call in progress',
        description:
          'The node handling the call sends BYE to both sides (an answered call) or refuses the ringing ' +
          "call to the caller (480). Answers once the request is on its way; the call's CDR follows.",
        params: Type.Object({ callId: Type.String({ minLength: 1, maxLength: 255 }) }),
        response: { 202: Type.Null({ description: 'Hang-up requested' }) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { callId } = request.params;
      const { calls, mine } = await visibleCalls(prisma, principal, activeCalls);
      const call = calls.find((c) => c.callId === callId);
      // Another tenant's call is as unknown as one that already ended.
      if (call === undefined) throw notFound('Call');
      await writeAudit(prisma, request, {
        action: 'hangup',
        entity: 'calls',
        entityId: callId,
        before: toCall(call, mine, now()),
      });
      await prisma.$executeRaw`SELECT pg_notify(${CALL_CONTROL_CHANNEL}, ${JSON.stringify({ callId })})`;
      return reply.code(202).send(null);
    },
  );
}
