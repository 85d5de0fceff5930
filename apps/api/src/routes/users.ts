import { hashPassword } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { checkUserCredentialChange } from '../auth/credentials.ts';
import { assertPasswordAllowed, loginIdentities } from '../auth/password-policy.ts';
import { type CrudContext, registerCrud, requireVisible } from '../crud.ts';
import { badRequest, forbidden } from '../errors.ts';
import { USER_LOCK } from '../locks.ts';
import { Name, Nullable, Patch, Timestamp, Timestamps, Uuid } from '../schemas.ts';
import { PROVIDER_ROLES, scopes } from '../tenancy.ts';
import type { Role } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * Web and API users. Operators manage everyone; a reseller manages its own logins and those of its
 * customers; a customer manages the logins of its own contract. Nobody grants a role above their own.
 */

const RoleEnum = Type.Enum(['operator', 'reseller', 'customer']);
const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
const NewPassword = Type.String({
  minLength: 10,
  maxLength: 1024,
  description: 'Write-only; stored as scrypt',
});

export const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  displayName: Nullable(Name),
  role: RoleEnum,
  resellerId: Nullable(Uuid),
  customerId: Nullable(Uuid),
  subscriberId: Nullable(Uuid),
  enabled: Type.Boolean(),
  lastLoginAt: Nullable(Timestamp),
  ...Timestamps,
});

const CreateUser = Type.Object(
  {
    email: Email,
    password: NewPassword,
    role: RoleEnum,
    displayName: Type.Optional(Nullable(Name)),
    resellerId: Type.Optional(Uuid),
    customerId: Type.Optional(Uuid),
    subscriberId: Type.Optional(Nullable(Uuid)),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Checks that the target tenant of a user record is the caller's to manage, returns the fields to store. */
async function tenantFields(
  ctx: CrudContext,
  role: Role,
  body: Pick<Static<typeof CreateUser>, 'resellerId' | 'customerId' | 'subscriberId'>,
): Promise<{ resellerId: string | null; customerId: string | null; subscriberId: string | null }> {
  const p = ctx.principal;
  const rank = { operator: 0, reseller: 1, customer: 2 } as const;
  if (rank[role] < rank[p.role]) throw forbidden(`A ${p.role} may not create ${role} users`);
  if (role === 'operator') return { resellerId: null, customerId: null, subscriberId: null };
  if (role === 'reseller') {
    const resellerId = p.role === 'reseller' ? p.resellerId : body.resellerId;
    if (!resellerId)
      throw badRequest('resellerId is required', [
        { field: '/body/resellerId', message: 'required for reseller users' },
      ]);
    await requireVisible(
      ctx.tx,
      (db) => db.reseller,
      scopes.reseller(p),
      resellerId,
      'Reseller',
      '/body/resellerId',
    );
    return { resellerId, customerId: null, subscriberId: null };
  }
  const customerId = p.role === 'customer' ? p.customerId : body.customerId;
  if (!customerId)
    throw badRequest('customerId is required', [
      { field: '/body/customerId', message: 'required for customer users' },
    ]);
  await requireVisible(
    ctx.tx,
    (db) => db.customer,
    scopes.customer(p),
    customerId,
    'Customer',
    '/body/customerId',
  );
  const subscriberId = body.subscriberId ?? null;
  if (subscriberId !== null) {
    await requireVisible(
      ctx.tx,
      (db) => db.subscriber,
      { customerId },
      subscriberId,
      'Subscriber',
      '/body/subscriberId',
    );
  }
  return { resellerId: null, customerId, subscriberId };
}

export async function userRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/users',
    entity: 'users',
    singular: 'user',
    tag: 'auth',
    model: (db) => db.user,
    item: User,
    create: CreateUser,
    update: Patch({ displayName: Nullable(Name), password: NewPassword, enabled: Type.Boolean() }),
    list: {
      sortable: ['email', 'role', 'createdAt', 'lastLoginAt'],
      defaultSort: 'email',
      filters: {
        email: { type: 'string', op: 'contains' },
        role: { type: 'enum', values: ['operator', 'reseller', 'customer'] },
        resellerId: { type: 'string' },
        customerId: { type: 'string' },
        enabled: { type: 'boolean' },
      },
    },
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: ['operator', 'reseller', 'customer'],
    readScope: scopes.user,
    // A login the provider disabled stays disabled: a customer removes logins by deleting them.
    fieldRoles: { enabled: PROVIDER_ROLES },
    lock: USER_LOCK,
    toCreateData: async (ctx, body) => {
      const role = body.role;
      const email = body.email.toLowerCase();
      assertPasswordAllowed(body.password, {
        field: '/body/password',
        identities: loginIdentities(email),
      });
      const tenant = await tenantFields(ctx, role, body);
      return {
        data: {
          email,
          displayName: body.displayName ?? null,
          enabled: body.enabled ?? true,
          role,
          ...tenant,
          passwordHash: await hashPassword(body.password),
        },
      };
    },
    toUpdateData: async (ctx, body, existing) => {
      await checkUserCredentialChange(ctx.tx, ctx.principal, existing, body);
      const { password, ...rest } = body;
      const passwordHash = password === undefined ? {} : { passwordHash: await hashPassword(password) };
      return { data: { ...rest, ...passwordHash } };
    },
  });
}
