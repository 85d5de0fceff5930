import { NumberingError, validateDialPlanSettings } from '@switchboard/numbering';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type CrudContext, checkFieldRoles, registerCrud, requireVisible } from '../crud.ts';
import { subscriberTree, userTree } from '../dependants.ts';
import { badRequest, notFoundField } from '../errors.ts';
import { STATUS_LOCK } from '../locks.ts';
import { AccountStatus, HostName, Name, Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import type { RouteOptions } from './options.ts';

/** Resellers, customers (contracts) and SIP domains: who owns what. */

const ResellerProps = { name: Name, status: AccountStatus };
export const Reseller = Type.Object({ id: Uuid, ...ResellerProps, ...Timestamps });

const Limit = Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000 }));
const CustomerProps = {
  name: Name,
  externalId: Nullable(Type.String({ maxLength: 128 })),
  status: AccountStatus,
  maxConcurrentCalls: Limit,
  maxSubscribers: Limit,
  maxCallDuration: Nullable(Type.Integer({ minimum: 1, maximum: 86_400, description: 'seconds' })),
};
export const Customer = Type.Object({
  id: Uuid,
  resellerId: Nullable(Uuid),
  ...CustomerProps,
  ...Timestamps,
});

const Prefix = (max: number) => Nullable(Type.String({ pattern: `^[0-9]{1,${max}}$` }));
const DomainProps = {
  name: HostName,
  selfSignup: Type.Boolean({ description: 'Whether the self-care portal lets new customers sign up here' }),
  countryCode: Prefix(3),
  nationalPrefix: Prefix(4),
  internationalPrefix: Prefix(5),
  areaCode: Prefix(6),
  rewriteRuleSetId: Nullable(Uuid),
};
export const Domain = Type.Object({ id: Uuid, resellerId: Nullable(Uuid), ...DomainProps, ...Timestamps });

/**
 * The reseller a new or moved record belongs to. Operators choose (NULL: the operator itself); resellers always
 * get their own, and naming another reseller is answered like a reseller that does not exist.
 */
async function owningReseller(ctx: CrudContext, requested: unknown): Promise<string | null | undefined> {
  const p = ctx.principal;
  if (p.role === 'reseller') {
    if (requested !== undefined && requested !== p.resellerId) {
      throw notFoundField('Reseller', '/body/resellerId');
    }
    return p.resellerId;
  }
  if (requested === undefined || requested === null) return requested as null | undefined;
  await requireVisible(ctx.tx, 'reseller', {}, String(requested), 'Reseller', '/body/resellerId');
  return String(requested);
}

/** A rule set named in a body must exist and be visible to the caller (404 naming the field). */
export async function checkRuleSet(ctx: CrudContext, id: unknown): Promise<void> {
  if (id === undefined || id === null) return;
  await requireVisible(
    ctx.tx,
    'rewriteRuleSet',
    scopes.rewriteRuleSetRead(ctx.principal),
    String(id),
    'Rewrite rule set',
    '/body/rewriteRuleSetId',
  );
}

export async function tenantRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/resellers',
    entity: 'resellers',
    singular: 'reseller',
    tag: 'tenants',
    model: 'reseller',
    item: Reseller,
    create: Type.Object(
      { name: Name, status: Type.Optional(AccountStatus) },
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
      ...subscriberTree((id) => ({ OR: [{ customer: { resellerId: id } }, { domain: { resellerId: id } }] })),
      { entity: 'customers', model: 'customer', where: (id) => ({ resellerId: id }), lock: STATUS_LOCK },
      { entity: 'domains', model: 'domain', where: (id) => ({ resellerId: id }) },
      { entity: 'rewrite-rules', model: 'rewriteRule', where: (id) => ({ ruleSet: { resellerId: id } }) },
      { entity: 'rewrite-rule-sets', model: 'rewriteRuleSet', where: (id) => ({ resellerId: id }) },
    ],
    toCreateData: async (_ctx, body) => ({ data: body }),
  });

  registerCrud(app, prisma, {
    path: '/customers',
    entity: 'customers',
    singular: 'customer',
    tag: 'tenants',
    model: 'customer',
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
    dependants: [...userTree((id) => ({ customerId: id })), ...subscriberTree((id) => ({ customerId: id }))],
    toCreateData: async (ctx, body) => {
      const resellerId = await owningReseller(ctx, body.resellerId);
      return { data: { ...body, resellerId: resellerId ?? null } };
    },
    toUpdateData: async (ctx, body) => {
      // Only an operator moves a customer to another reseller (on create, a reseller may name itself).
      checkFieldRoles({ resellerId: ['operator'] }, ctx.principal, body);
      if ('resellerId' in body) await owningReseller(ctx, body.resellerId);
      return { data: body };
    },
  });

  registerCrud(app, prisma, {
    path: '/domains',
    entity: 'domains',
    singular: 'domain',
    tag: 'tenants',
    model: 'domain',
    item: Domain,
    create: Type.Object(
      {
        name: HostName,
        resellerId: Type.Optional(Nullable(Uuid)),
        selfSignup: Type.Optional(DomainProps.selfSignup),
        countryCode: Type.Optional(DomainProps.countryCode),
        nationalPrefix: Type.Optional(DomainProps.nationalPrefix),
        internationalPrefix: Type.Optional(DomainProps.internationalPrefix),
        areaCode: Type.Optional(DomainProps.areaCode),
        rewriteRuleSetId: Type.Optional(DomainProps.rewriteRuleSetId),
      },
      { additionalProperties: false },
    ),
    // Renaming a domain would silently invalidate every subscriber's HA1 (the realm is the domain name).
    update: Patch({
      selfSignup: DomainProps.selfSignup,
      countryCode: DomainProps.countryCode,
      nationalPrefix: DomainProps.nationalPrefix,
      internationalPrefix: DomainProps.internationalPrefix,
      areaCode: DomainProps.areaCode,
      rewriteRuleSetId: DomainProps.rewriteRuleSetId,
    }),
    list: {
      sortable: ['name', 'createdAt'],
      defaultSort: 'name',
      filters: {
        name: { type: 'string', op: 'contains' },
        resellerId: { type: 'string' },
        selfSignup: { type: 'boolean' },
      },
    },
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: ['operator', 'reseller'],
    readScope: scopes.domain,
    writeScope: (p) => scopes.domainForNewSubscribers(p),
    dependants: subscriberTree((id) => ({ domainId: id })),
    toCreateData: async (ctx, body) => {
      const resellerId = await owningReseller(ctx, body.resellerId);
      await checkRuleSet(ctx, body.rewriteRuleSetId);
      checkDialPlan(body);
      return { data: { ...body, name: String(body.name).toLowerCase(), resellerId: resellerId ?? null } };
    },
    toUpdateData: async (ctx, body) => {
      await checkRuleSet(ctx, body.rewriteRuleSetId);
      return { data: body };
    },
  });
}

/** Dialling settings are checked when provisioned, never at call time (numbering's own rules). */
function checkDialPlan(body: Record<string, unknown>): void {
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  try {
    validateDialPlanSettings({
      countryCode: text(body.countryCode),
      nationalPrefix: text(body.nationalPrefix),
      internationalPrefix: text(body.internationalPrefix),
      areaCode: text(body.areaCode),
    });
  } catch (err) {
    if (!(err instanceof NumberingError)) throw err;
    // The message names the setting; point the client at that field.
    const field =
      [
        ['international prefix', 'internationalPrefix'],
        ['national prefix', 'nationalPrefix'],
        ['area code', 'areaCode'],
      ].find(([words]) => err.message.includes(words!))?.[1] ?? 'countryCode';
    throw badRequest('Invalid dialling settings', [{ field: `/body/${field}`, message: err.message }]);
  }
}
