import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { Cidr, isCidr } from '../cidr.ts';
import { badRequest, notFound } from '../errors.ts';
import { NoContent, Timestamp, Uuid } from '../schemas.ts';
import { PROVIDER_ROLES, scopes, within } from '../tenancy.ts';
import { ROLES } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * IP-authenticated trunks of a (carrier) customer: calls from the trunk's trusted sources act as one
 * of the customer's subscribers (its domain, numbers, rules) without digest authentication, and are
 * routed and billed as the customer's (docs/billing.md, "Carrier customers"). A registered trunk
 * needs no row: it is a subscriber the customer's PBX registers as.
 */

const Trunk = Type.Object({
  id: Uuid,
  customerId: Uuid,
  subscriberId: Uuid,
  name: Type.String(),
  trustedSources: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const Body = Type.Object(
  {
    subscriberId: Uuid,
    name: Type.String({ minLength: 1, maxLength: 100 }),
    trustedSources: Type.Array(Cidr, { minItems: 1, maxItems: 100 }),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export async function customerTrunkRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const scopeOf = (request: Parameters<typeof principalOf>[0]) => ({
    customer: scopes.customer(principalOf(request)),
  });

  app.get(
    '/customer-trunks',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'listCustomerTrunks',
        summary: 'IP-authenticated trunks of the customers the caller may see',
        querystring: Type.Object({ customerId: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(Trunk) }) },
      },
    },
    async (request) => {
      const filter = request.query.customerId ? { customerId: request.query.customerId } : {};
      const items = await prisma.customerTrunk.findMany({
        where: within(scopeOf(request), filter),
        orderBy: { name: 'asc' },
        take: 500,
      });
      return { items };
    },
  );

  app.post(
    '/customer-trunks',
    {
      config: { roles: PROVIDER_ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'createCustomerTrunk',
        summary: 'Add an IP-authenticated trunk: calls from its sources act as the subscriber',
        body: Body,
        response: { 201: Trunk },
      },
    },
    async (request, reply) => {
      const body = request.body;
      body.trustedSources.forEach((source, i) => {
        if (!isCidr(source))
          throw badRequest('Not an IP address or CIDR block', [
            { field: `/body/trustedSources/${i}`, message: 'expected IP or CIDR' },
          ]);
      });
      const subscriber = await prisma.subscriber.findFirst({
        where: { id: body.subscriberId, customer: scopes.customer(principalOf(request)) },
        select: { customerId: true },
      });
      if (!subscriber)
        throw badRequest('No such subscriber', [{ field: '/body/subscriberId', message: 'not found' }]);
      const trunk = await prisma.$transaction(async (tx) => {
        const row = await tx.customerTrunk.create({ data: { ...body, customerId: subscriber.customerId } });
        await writeAudit(tx, request, {
          action: 'create',
          entity: 'customer_trunks',
          entityId: row.id,
          after: row,
        });
        return row;
      });
      return reply.code(201).send(trunk);
    },
  );

  app.delete(
    '/customer-trunks/:id',
    {
      config: { roles: PROVIDER_ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'deleteCustomerTrunk',
        summary: 'Remove a trunk',
        params: Type.Object({ id: Uuid }),
        response: { 204: NoContent('Removed') },
      },
    },
    async (request, reply) => {
      const row = await prisma.customerTrunk.findFirst({
        where: within(scopeOf(request), { id: request.params.id }),
      });
      if (!row) throw notFound('Customer trunk');
      await prisma.$transaction(async (tx) => {
        await tx.customerTrunk.delete({ where: { id: row.id } });
        await writeAudit(tx, request, {
          action: 'delete',
          entity: 'customer_trunks',
          entityId: row.id,
          before: row,
        });
      });
      return reply.code(204).send();
    },
  );
}
