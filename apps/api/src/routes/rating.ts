import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { markForRerating } from '../billing/rerate.ts';
import { badRequest } from '../errors.ts';
import { Uuid } from '../schemas.ts';
import { operatorOnly } from './billing-profiles.ts';
import type { RouteOptions } from './options.ts';

/** Rating actions on CDRs: re-rating a period after a profile or deck change. */

/** A re-rate covers at most this long a period; a longer one is several requests. */
const MAX_PERIOD_MS = 93 * 24 * 3600_000;

export async function ratingRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/rating/rerate',
    {
      config: { roles: operatorOnly },
      schema: {
        tags: ['billing'],
        operationId: 'rerateCdrs',
        summary: 'Re-rate the CDRs of a period with the profiles and decks in effect now',
        description:
          'The CDRs go back to `unrated`; the rater prices them again within seconds (their ratingCount goes up by one).',
        body: Type.Object(
          {
            from: Type.String({ format: 'date-time', description: 'Calls started at or after' }),
            to: Type.String({ format: 'date-time', description: 'Calls started before' }),
            customerId: Type.Optional(Uuid),
            resellerId: Type.Optional(Uuid),
            peeringGroupId: Type.Optional(Uuid),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ marked: Type.Integer({ description: 'CDRs queued for rating' }) }) },
      },
    },
    async (request) => {
      const body = request.body;
      const from = new Date(body.from);
      const to = new Date(body.to);
      if (to <= from)
        throw badRequest('to must be after from', [{ field: '/body/to', message: 'must be after from' }]);
      if (to.getTime() - from.getTime() > MAX_PERIOD_MS)
        throw badRequest('At most 93 days per re-rate', [
          { field: '/body/to', message: 'period longer than 93 days' },
        ]);
      return prisma.$transaction(async (tx) => {
        const marked = await markForRerating(tx, { ...body, from, to });
        await writeAudit(tx, request, { action: 'rerate', entity: 'cdrs', after: { ...body, marked } });
        return { marked };
      });
    },
  );
}
