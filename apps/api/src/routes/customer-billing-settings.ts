import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { parseMicros } from '../billing/money.ts';
import { badRequest, notFound } from '../errors.ts';
import { Uuid } from '../schemas.ts';
import { PROVIDER_ROLES, scopes, within } from '../tenancy.ts';
import { ROLES } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * A customer's postpaid and wholesale settings (docs/billing.md): the monthly credit limit, whether
 * it is a carrier customer, margin protection and its routing plan (the peering groups its calls may
 * use). Set by its provider (operator, or its reseller); the customer reads them.
 */

const Settings = Type.Object({
  customerId: Uuid,
  creditLimit: Type.Union([Type.String(), Type.Null()], {
    description: "Per calendar month (UTC) in the sell profile's currency; null: no limit",
  }),
  carrier: Type.Boolean({ description: 'A carrier (wholesale) customer sending traffic over trunks' }),
  marginProtection: Type.Union([Type.Boolean(), Type.Null()], {
    description: 'LCR skips routes costing more than the sell price; null: on for carrier customers',
  }),
  peeringGroupIds: Type.Array(Uuid, { description: "The customer's routing plan; empty: every group" }),
});

const Body = Type.Object(
  {
    creditLimit: Type.Union([Type.String({ pattern: '^\\d{1,12}(\\.\\d{1,6})?$' }), Type.Null()]),
    carrier: Type.Boolean(),
    marginProtection: Type.Union([Type.Boolean(), Type.Null()]),
    peeringGroupIds: Type.Array(Uuid, { maxItems: 100, uniqueItems: true }),
  },
  { additionalProperties: false },
);

const DEFAULTS = {
  creditLimit: null,
  carrier: false,
  marginProtection: null,
  peeringGroupIds: [] as string[],
};

export async function customerBillingSettingsRoutes(
  fastify: FastifyInstance,
  { prisma }: RouteOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const params = Type.Object({ id: Uuid });

  async function visibleCustomer(request: Parameters<typeof principalOf>[0], id: string): Promise<void> {
    const found = await prisma.customer.findFirst({
      where: within(scopes.customer(principalOf(request)), { id }),
      select: { id: true },
    });
    if (!found) throw notFound('Customer');
  }

  app.get(
    '/customers/:id/billing-settings',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'getCustomerBillingSettings',
        summary: "A customer's credit limit, carrier flag, margin protection and routing plan",
        params,
        response: { 200: Settings },
      },
    },
    async (request) => {
      await visibleCustomer(request, request.params.id);
      const row = await prisma.customerBillingSettings.findUnique({
        where: { customerId: request.params.id },
      });
      if (!row) return { customerId: request.params.id, ...DEFAULTS };
      return { ...row, creditLimit: row.creditLimit?.toFixed(6) ?? null };
    },
  );

  app.put(
    '/customers/:id/billing-settings',
    {
      config: { roles: PROVIDER_ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'putCustomerBillingSettings',
        summary: "Set a customer's credit limit, carrier flag, margin protection and routing plan",
        params,
        body: Body,
        response: { 200: Settings },
      },
    },
    async (request) => {
      const customerId = request.params.id;
      await visibleCustomer(request, customerId);
      const body = request.body;
      if (body.creditLimit !== null && parseMicros(body.creditLimit) === undefined)
        throw badRequest('Not an amount', [{ field: '/body/creditLimit', message: 'not a decimal amount' }]);
      const groups = await prisma.peeringGroup.count({ where: { id: { in: body.peeringGroupIds } } });
      if (groups !== body.peeringGroupIds.length)
        throw badRequest('Unknown peering group', [
          { field: '/body/peeringGroupIds', message: 'names a peering group that does not exist' },
        ]);
      return prisma.$transaction(async (tx) => {
        const row = await tx.customerBillingSettings.upsert({
          where: { customerId },
          create: { customerId, ...body },
          update: body,
        });
        await writeAudit(tx, request, {
          action: 'update',
          entity: 'customer_billing_settings',
          entityId: customerId,
          after: body,
        });
        return { ...row, creditLimit: row.creditLimit?.toFixed(6) ?? null };
      });
    },
  );
}
