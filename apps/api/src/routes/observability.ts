import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type MetricsRegistry, renderMetrics } from '@switchboard/metrics';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { resolvePrincipal } from '../auth/authenticate.ts';
import { bearerFrom } from '../auth/tokens.ts';
import { ApiError, forbidden, unauthorized } from '../errors.ts';
import type { LadderMessage } from '../types.ts';
import type { RouteOptions } from './options.ts';

/** Loopback peers (Prometheus on the same host, the all-in-one's own checks) scrape without a credential. */
function fromLoopback(request: FastifyRequest): boolean {
  const address = request.socket.remoteAddress ?? '';
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * `GET /metrics`: the Prometheus text of the process registry (in the all-in-one process: every component).
 * Open to loopback; from elsewhere it takes an operator's bearer token or API key, as Prometheus sends with
 * `authorization: { credentials_file: ... }`.
 */
export async function metricsRoute(
  fastify: FastifyInstance,
  { prisma, now, metrics }: Pick<RouteOptions, 'prisma' | 'now'> & { metrics: MetricsRegistry },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/metrics', { schema: { hide: true }, config: { public: true } }, async (request, reply) => {
    if (!fromLoopback(request)) {
      const secret = bearerFrom(request.headers.authorization);
      if (secret === undefined) throw unauthorized();
      const principal = await resolvePrincipal(prisma, secret, now());
      if (principal === undefined) throw unauthorized('The token or API key is invalid, expired or revoked');
      if (principal.role !== 'operator') throw forbidden();
    }
    const { contentType, body } = await renderMetrics(metrics);
    return reply.type(contentType).send(body);
  });
}

const LadderEntry = Type.Object({
  seq: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  direction: Type.Enum(['in', 'out']),
  transport: Type.String(),
  source: Type.String({ description: 'address:port of the sender' }),
  destination: Type.String({ description: 'address:port of the receiver' }),
  callId: Type.String(),
  startLine: Type.String({ description: 'Request line or status line' }),
  message: Type.String({ description: 'The whole SIP message' }),
});

const Ladder = Type.Object({
  callId: Type.String(),
  legs: Type.Array(Type.String(), { description: 'Call-IDs of the legs shown (A leg first)' }),
  messages: Type.Array(LadderEntry),
});

/**
 * `GET /api/v1/calls/{callId}/ladder`: the SIP message sequence of a call of the last hour, from the engine's
 * own capture. `callId` is the caller's Call-ID (a CDR's `callId`) or a B leg's; the CDR joins the legs.
 */
export async function ladderRoute(
  fastify: FastifyInstance,
  {
    prisma,
    callLadder,
  }: Pick<RouteOptions, 'prisma'> & { callLadder?: (callIds: string[]) => LadderMessage[] },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/calls/:callId/ladder',
    {
      config: { roles: ['operator'] },
      schema: {
        tags: ['live'],
        operationId: 'callLadder',
        summary: 'SIP message sequence of a call of the last hour (operator)',
        params: Type.Object({ callId: Type.String({ minLength: 1, maxLength: 255 }) }),
        response: { 200: Ladder },
      },
    },
    async (request) => {
      const { callId } = request.params;
      if (callLadder === undefined) {
        throw new ApiError(
          404,
          'No SIP capture here: the engine runs in another process (use HEP_DESTINATION)',
        );
      }
      const cdrs = await prisma.cdr.findMany({
        where: { OR: [{ callId }, { aLegId: callId }, { bLegId: callId }] },
        select: { callId: true, aLegId: true, bLegId: true },
        take: 20,
      });
      const legs = [...new Set([callId, ...cdrs.flatMap((c) => [c.callId, c.aLegId, c.bLegId])])].filter(
        (id): id is string => typeof id === 'string' && id.length > 0,
      );
      const messages = callLadder(legs);
      if (messages.length === 0)
        throw new ApiError(404, 'No captured SIP messages for this call in the last hour');
      const seen = new Set(messages.map((m) => m.callId));
      return { callId, legs: legs.filter((id) => seen.has(id)), messages };
    },
  );
}
