import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { parseMicros } from '../billing/money.ts';
import { parseTaxRate } from '../billing/tax.ts';
import { badRequest, notFound } from '../errors.ts';
import { Uuid } from '../schemas.ts';
import { PROVIDER_ROLES, scopes, within } from '../tenancy.ts';
import { ROLES } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * A customer's postpaid and wholesale settings (docs/billing.md): the monthly credit limit, whether
 * it is a carrier customer, margin protection, its routing plan (the peering groups its calls may
 * use) and the tax rate and tax id of its invoices. Set by its provider (operator, or its reseller); the customer reads them.
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
  taxRate: Type.Union([Type.String(), Type.Null()], {
    description: "Tax (VAT) percent of its invoices, e.g. 20.00; null: the issuer's default",
  }),
  taxId: Type.Union([Type.String(), Type.Null()], {
    description: 'Its tax id (VAT number), printed on invoices',
  }),
});

const Body = Type.Object(
  {
    creditLimit: Type.Union([Type.String({ pattern: '^\\d{1,12}(\\.\\d{1,6})?$' }), Type.Null()]),
    carrier: Type.Boolean(),
    marginProtection: Type.Union([Type.Boolean(), Type.Null()]),
    peeringGroupIds: Type.Array(Uuid, { maxItems: 100, uniqueItems: true }),
    /** Optional (left as it is when absent), so older clients keep working. */
    taxRate: Type.Optional(
      Type.Union([Type.String({ description: 'Percent, 0-100, at most two decimals' }), Type.Null()]),
    ),
    taxId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 50 }), Type.Null()])),
  },
  { additionalProperties: false },
);

const DEFAULTS = {
  creditLimit: null,
  carrier: false,
  marginProtection: null,
  peeringGroupIds: [] as string[],
  taxRate: null,
  taxId: null,
};

function settingsItem(row: {
  customerId: string;
  creditLimit: { toFixed(n: number): string } | null;
  carrier: boolean;
  marginProtection: boolean | null;
  peeringGroupIds: string[];
  taxRate: { toFixed(n: number): string } | null;
  taxId: string | null;
}) {
  return {
    ...row,
    creditLimit: row.creditLimit?.toFixed(6) ?? null,
    taxRate: row.taxRate?.toFixed(2) ?? null,
  };
}

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
      return settingsItem(row);
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
      if (typeof body.taxRate === 'string' && parseTaxRate(body.taxRate) === undefined)
        throw badRequest('Not a tax rate', [
          { field: '/body/taxRate', message: 'not a percent from 0 to 100 with at most two decimals' },
        ]);
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
        return settingsItem(row);
      });
    },
  );
}
