import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type CrudContext, registerCrud, requireVisible } from '../crud.ts';
import { huntGroupTree, subscriberTree, userTree } from '../dependants.ts';
import { notFoundField } from '../errors.ts';
import { STATUS_LOCK } from '../locks.ts';
import { AccountStatus, Name, Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import { checkBillingProfile } from './billing-profiles.ts';
import type { RouteOptions } from './options.ts';

/** Resellers: the tenants that own customers, domains and rule sets on behalf of the operator. */

const ResellerProps = {
  name: Name,
  status: AccountStatus,
  billingProfileId: Nullable(
    Type.String({
      format: 'uuid',
      description: 'Sell billing profile: what the operator charges this reseller',
    }),
  ),
};
export const Reseller = Type.Object({ id: Uuid, ...ResellerProps, ...Timestamps });

/**
 * The reseller a new or moved record belongs to. Operators choose (NULL: the operator itself); resellers always
 * get their own, and naming another reseller is answered like a reseller that does not exist.
 */
export async function owningReseller(
  ctx: CrudContext,
  requested: string | null | undefined,
): Promise<string | null | undefined> {
  const p = ctx.principal;
  if (p.role === 'reseller') {
    if (requested !== undefined && requested !== p.resellerId) {
      throw notFoundField('Reseller', '/body/resellerId');
    }
    return p.resellerId;
  }
  if (requested === undefined || requested === null) return requested;
  await requireVisible(ctx.tx, (db) => db.reseller, {}, requested, 'Reseller', '/body/resellerId');
  return requested;
}

export async function resellerRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/resellers',
    entity: 'resellers',
    singular: 'reseller',
    tag: 'tenants',
    model: (db) => db.reseller,
    item: Reseller,
    create: Type.Object(
      {
        name: Name,
        status: Type.Optional(AccountStatus),
        billingProfileId: Type.Optional(ResellerProps.billingProfileId),
      },
      { additionalProperties: false },
    ),
    update: Patch(ResellerProps),
    list: {
      sortable: ['name', 'createdAt', 'status'],
      defaultSort: 'name',
      filters: {
        name: { type: 'string', op: 'contains' },
        status: { type: 'enum', values: ['active', 'locked', 'terminated'] },
      },
    },
    readRoles: ['operator', 'reseller'],
    writeRoles: ['operator'],
    readScope: scopes.reseller,
    // Everything the reseller provides: its customers with their subscribers and logins, its domains (with
    // subscribers of any customer in them), its rule sets and its own logins.
    dependants: [
      ...userTree((id) => ({ OR: [{ resellerId: id }, { customer: { resellerId: id } }] })),
      ...huntGroupTree((id) => ({ OR: [{ customer: { resellerId: id } }, { domain: { resellerId: id } }] })),
      ...subscriberTree((id) => ({ OR: [{ customer: { resellerId: id } }, { domain: { resellerId: id } }] })),
      {
        entity: 'customers',
        model: (db) => db.customer,
        where: (id) => ({ resellerId: id }),
        lock: STATUS_LOCK,
      },
      { entity: 'domains', model: (db) => db.domain, where: (id) => ({ resellerId: id }) },
      {
        entity: 'rewrite-rules',
        model: (db) => db.rewriteRule,
        where: (id) => ({ ruleSet: { resellerId: id } }),
      },
      { entity: 'rewrite-rule-sets', model: (db) => db.rewriteRuleSet, where: (id) => ({ resellerId: id }) },
    ],
    toCreateData: async (ctx, body) => {
      await checkBillingProfile(ctx, body.billingProfileId, 'sell', '/body/billingProfileId');
      return { data: body };
    },
    toUpdateData: async (ctx, body) => {
      await checkBillingProfile(ctx, body.billingProfileId, 'sell', '/body/billingProfileId');
      return { data: body };
    },
  });
}
