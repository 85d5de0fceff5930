import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { badRequest } from '../errors.ts';
import { Uuid } from '../schemas.ts';
import { operatorOnly } from './billing-profiles.ts';
import type { RouteOptions } from './options.ts';

/**
 * Route quality per gateway or peering group over a period, from the CDRs of outbound calls (the
 * gateway that took the call's last attempt):
 * - ASR (answer-seizure ratio) = answered / attempts;
 * - ACD (average call duration) = seconds of answered calls / answered;
 * - NER (network effectiveness ratio) = calls the far end answered or refused as a user would
 *   (answered, busy, no answer, cancelled by the caller, declined) / attempts: what failed in the
 *   network (any other error) lowers it.
 */

const MAX_PERIOD_MS = 93 * 24 * 3600_000;

const Row = Type.Object({
  id: Uuid,
  name: Type.String(),
  groupId: Type.Optional(Uuid),
  attempts: Type.Integer(),
  answered: Type.Integer(),
  asr: Type.Number({ description: 'answered / attempts, 0..1' }),
  acdSeconds: Type.Number({ description: 'average duration of answered calls' }),
  ner: Type.Number({ description: 'attempts not failed by the network / attempts, 0..1' }),
  minutes: Type.Number({ description: 'answered minutes' }),
});

interface StatsRow {
  id: string;
  name: string;
  group_id?: string;
  attempts: bigint;
  answered: bigint;
  effective: bigint;
  seconds: number | null;
}

const COUNTS = `count(*) AS attempts,
    count(*) FILTER (WHERE c.disposition = 'answered') AS answered,
    count(*) FILTER (WHERE c.disposition IN ('answered', 'busy', 'no_answer', 'cancelled', 'rejected')) AS effective,
    (sum(c.duration_ms) FILTER (WHERE c.disposition = 'answered'))::float8 / 1000 AS seconds`;

const BY_GATEWAY = `SELECT g.id, g.name, g.group_id, ${COUNTS}
  FROM cdrs c JOIN peer_gateways g ON g.id = c.peer_gateway_id
  WHERE c.direction = 'outbound' AND c.started_at >= $1 AND c.started_at < $2
  GROUP BY g.id, g.name, g.group_id ORDER BY g.name`;

const BY_GROUP = `SELECT p.id, p.name, ${COUNTS}
  FROM cdrs c JOIN peer_gateways g ON g.id = c.peer_gateway_id JOIN peering_groups p ON p.id = g.group_id
  WHERE c.direction = 'outbound' AND c.started_at >= $1 AND c.started_at < $2
  GROUP BY p.id, p.name ORDER BY p.name`;

export function statsOf(row: StatsRow) {
  const attempts = Number(row.attempts);
  const answered = Number(row.answered);
  const seconds = row.seconds ?? 0;
  return {
    id: row.id,
    name: row.name,
    ...(row.group_id ? { groupId: row.group_id } : {}),
    attempts,
    answered,
    asr: attempts > 0 ? answered / attempts : 0,
    acdSeconds: answered > 0 ? seconds / answered : 0,
    ner: attempts > 0 ? Number(row.effective) / attempts : 0,
    minutes: seconds / 60,
  };
}

export async function routeStatsRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/route-stats',
    {
      config: { roles: operatorOnly },
      schema: {
        tags: ['billing'],
        operationId: 'routeStats',
        summary: 'ASR, ACD and NER per gateway or peering group over a period',
        querystring: Type.Object(
          {
            from: Type.String({ format: 'date-time' }),
            to: Type.String({ format: 'date-time' }),
            by: Type.Optional(Type.Enum(['gateway', 'group'], { default: 'gateway' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(Row) }) },
      },
    },
    async (request) => {
      const from = new Date(request.query.from);
      const to = new Date(request.query.to);
      if (to <= from || to.getTime() - from.getTime() > MAX_PERIOD_MS)
        throw badRequest('The period must end after it starts and last at most 93 days', [
          { field: '/querystring/to', message: 'after from, at most 93 days' },
        ]);
      const sql = request.query.by === 'group' ? BY_GROUP : BY_GATEWAY;
      const rows = await prisma.$queryRawUnsafe<StatsRow[]>(sql, from, to);
      return { items: rows.map(statsOf) };
    },
  );
}
