import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { checkFieldRoles, registerCrud } from '../crud.ts';
import { huntGroupTree, subscriberTree, userTree } from '../dependants.ts';
import { STATUS_LOCK } from '../locks.ts';
import { AccountStatus, Name, Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import { checkBillingProfile } from './billing-profiles.ts';
import type { RouteOptions } from './options.ts';
import { owningReseller } from './resellers.ts';

/** Customers (contracts): who subscribers and logins belong to, with their limits. */

const Limit = Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000 }));
const CustomerProps = {
  name: Name,
  externalId: Nullable(Type.String({ maxLength: 128 })),
  status: AccountStatus,
  maxConcurrentCalls: Limit,
  maxSubscribers: Limit,
  maxCallDuration: Nullable(Type.Integer({ minimum: 1, maximum: 86_400, description: 'seconds' })),
  maxCallsPerSecond: Nullable(
    Type.Integer({
      minimum: 1,
      maximum: 10_000,
      description: 'New calls per second (call admission control)',
    }),
  ),
  billingProfileId: Nullable(
    Type.String({ format: 'uuid', description: 'Sell billing profile pricing its calls' }),
  ),
};
export const Customer = Type.Object({
  id: Uuid,
  resellerId: Nullable(Uuid),
  ...CustomerProps,
  ...Timestamps,
});

export async function customerRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/customers',
    entity: 'customers',
    singular: 'customer',
    tag: 'tenants',
    model: (db) => db.customer,
    item: Customer,
    create: Type.Object(
      {
        name: Name,
        resellerId: Type.Optional(Nullable(Uuid)),
        externalId: Type.Optional(CustomerProps.externalId),
        status: Type.Optional(AccountStatus),
        maxConcurrentCalls: Type.Optional(Limit),
        maxSubscribers: Type.Optional(Limit),
        maxCallDuration: Type.Optional(CustomerProps.maxCallDuration),
        maxCallsPerSecond: Type.Optional(CustomerProps.maxCallsPerSecond),
        billingProfileId: Type.Optional(CustomerProps.billingProfileId),
      },
      { additionalProperties: false },
    ),
    update: Patch({ ...CustomerProps, resellerId: Nullable(Uuid) }),
    list: {
      sortable: ['name', 'createdAt', 'status'],
      defaultSort: 'name',
      filters: {
        name: { type: 'string', op: 'contains' },
        externalId: { type: 'string' },
        resellerId: { type: 'string' },
        status: { type: 'enum', values: ['active', 'locked', 'terminated'] },
      },
    },
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: ['operator', 'reseller'],
    readScope: scopes.customer,
    lock: STATUS_LOCK,
    // Prices are the operator's to set (docs/billing.md).
    fieldRoles: { billingProfileId: ['operator'] },
    dependants: [
      ...userTree((id) => ({ customerId: id })),
      ...huntGroupTree((id) => ({ customerId: id })),
      ...subscriberTree((id) => ({ customerId: id })),
    ],
    toCreateData: async (ctx, body) => {
      const resellerId = await owningReseller(ctx, body.resellerId);
      await checkBillingProfile(ctx, body.billingProfileId, 'sell', '/body/billingProfileId');
      return { data: { ...body, resellerId: resellerId ?? null } };
    },
    toUpdateData: async (ctx, body) => {
      // Only an operator moves a customer to another reseller (on create, a reseller may name itself).
      checkFieldRoles({ resellerId: ['operator'] }, ctx.principal, body);
      if ('resellerId' in body) await owningReseller(ctx, body.resellerId);
      await checkBillingProfile(ctx, body.billingProfileId, 'sell', '/body/billingProfileId');
      return { data: body };
    },
  });
}
