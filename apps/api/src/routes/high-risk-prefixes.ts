import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { conflict, notFound } from '../errors.ts';
import { Description, NoContent, Nullable, Timestamp } from '../schemas.ts';
import type { RouteOptions } from './options.ts';

/**
 * The operator's high-risk destination prefixes (docs/billing.md, "Fraud limits"): a subscriber's call
 * to one raises an alert at call start, and is refused for a customer whose `highRiskAction` is
 * `block`. The operator writes the list; resellers read it, so they can tell why their customers'
 * calls were alerted. sip-core follows the table on the change feed.
 */

/** E.164 digits without `+`, as the call's destination is compared: 1 to 15 digits (ITU-T E.164 §6.1). */
const PREFIX_PATTERN = '^\\+?[0-9]{1,15}$';
const Prefix = Type.String({
  pattern: PREFIX_PATTERN,
  description: 'E.164 digits, 1-15, a leading + is dropped',
});

const HighRiskPrefixItem = Type.Object({
  prefix: Type.String(),
  note: Nullable(Type.String()),
  createdAt: Timestamp,
});

const Params = Type.Object({ prefix: Prefix });

const digits = (prefix: string) => (prefix.startsWith('+') ? prefix.slice(1) : prefix);

export async function highRiskPrefixRoutes(
  fastify: FastifyInstance,
  { prisma }: RouteOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/high-risk-prefixes',
    {
      config: { roles: ['operator', 'reseller'] },
      schema: {
        tags: ['billing'],
        operationId: 'listHighRiskPrefixes',
        summary: 'The high-risk destination prefixes, in prefix order',
        querystring: Type.Object({
          prefix: Type.Optional(Type.String({ pattern: '^\\+?[0-9]{0,15}$', description: 'Starts with' })),
        }),
        response: { 200: Type.Object({ items: Type.Array(HighRiskPrefixItem) }) },
      },
    },
    async (request) => {
      const start = request.query.prefix ? digits(request.query.prefix) : '';
      const items = await prisma.highRiskPrefix.findMany({
        where: start ? { prefix: { startsWith: start } } : {},
        orderBy: { prefix: 'asc' },
        take: 10_000,
      });
      return { items };
    },
  );

  app.get(
    '/high-risk-prefixes/:prefix',
    {
      config: { roles: ['operator', 'reseller'] },
      schema: {
        tags: ['billing'],
        operationId: 'getHighRiskPrefix',
        summary: 'One high-risk prefix',
        params: Params,
        response: { 200: HighRiskPrefixItem },
      },
    },
    async (request) => {
      const row = await prisma.highRiskPrefix.findUnique({
        where: { prefix: digits(request.params.prefix) },
      });
      if (!row) throw notFound('High-risk prefix');
      return row;
    },
  );

  app.post(
    '/high-risk-prefixes',
    {
      config: { roles: ['operator'] },
      schema: {
        tags: ['billing'],
        operationId: 'createHighRiskPrefix',
        summary: 'Add a high-risk destination prefix',
        body: Type.Object(
          { prefix: Prefix, note: Type.Optional(Nullable(Description)) },
          { additionalProperties: false },
        ),
        response: { 201: HighRiskPrefixItem },
      },
    },
    async (request, reply) => {
      const prefix = digits(request.body.prefix);
      const created = await prisma.$transaction(async (tx) => {
        if (await tx.highRiskPrefix.findUnique({ where: { prefix } }))
          throw conflict('The prefix is on the list already', [
            { field: '/body/prefix', message: 'already listed' },
          ]);
        const row = await tx.highRiskPrefix.create({ data: { prefix, note: request.body.note ?? null } });
        await writeAudit(tx, request, {
          action: 'create',
          entity: 'high-risk-prefixes',
          entityId: prefix,
          after: row,
        });
        return row;
      });
      reply.code(201);
      return created;
    },
  );

  app.patch(
    '/high-risk-prefixes/:prefix',
    {
      config: { roles: ['operator'] },
      schema: {
        tags: ['billing'],
        operationId: 'updateHighRiskPrefix',
        summary: "Change a high-risk prefix's note",
        params: Params,
        body: Type.Object({ note: Nullable(Description) }, { additionalProperties: false }),
        response: { 200: HighRiskPrefixItem },
      },
    },
    async (request) => {
      const prefix = digits(request.params.prefix);
      return prisma.$transaction(async (tx) => {
        const before = await tx.highRiskPrefix.findUnique({ where: { prefix } });
        if (!before) throw notFound('High-risk prefix');
        const after = await tx.highRiskPrefix.update({
          where: { prefix },
          data: { note: request.body.note },
        });
        await writeAudit(tx, request, {
          action: 'update',
          entity: 'high-risk-prefixes',
          entityId: prefix,
          before,
          after,
        });
        return after;
      });
    },
  );

  app.delete(
    '/high-risk-prefixes/:prefix',
    {
      config: { roles: ['operator'] },
      schema: {
        tags: ['billing'],
        operationId: 'deleteHighRiskPrefix',
        summary: 'Remove a high-risk prefix',
        params: Params,
        response: { 204: NoContent('Removed') },
      },
    },
    async (request, reply) => {
      const prefix = digits(request.params.prefix);
      await prisma.$transaction(async (tx) => {
        const before = await tx.highRiskPrefix.findUnique({ where: { prefix } });
        if (!before) throw notFound('High-risk prefix');
        await tx.highRiskPrefix.delete({ where: { prefix } });
        await writeAudit(tx, request, {
          action: 'delete',
          entity: 'high-risk-prefixes',
          entityId: prefix,
          before,
        });
      });
      return reply.code(204).send();
    },
  );
}
