import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Cidr, isCidr } from '../cidr.ts';
import { registerCrud } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Description, Nullable, Patch, Timestamp, Timestamps, Uuid } from '../schemas.ts';
import type { RouteOptions } from './options.ts';
import { all, operatorOnly } from './peering-groups.ts';

/** Addresses the SIP edge refuses, set by the operator or by the ban rules. */

export const IpBan = Type.Object({
  id: Uuid,
  address: Cidr,
  reason: Nullable(Description),
  expiresAt: Nullable(Timestamp),
  createdBy: Type.String(),
  createdByUserId: Nullable(Uuid),
  hitCount: Type.Integer(),
  lastHitAt: Nullable(Timestamp),
  ...Timestamps,
});

function canonicalAddress(value: string): string {
  const s = value.trim().toLowerCase();
  if (!isCidr(s))
    throw badRequest('Not an IP address or CIDR block', [
      { field: '/body/address', message: 'expected IP or CIDR' },
    ]);
  return s;
}

export async function ipBanRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/ip-bans',
    entity: 'ip-bans',
    singular: 'IP ban',
    tag: 'security',
    model: (db) => db.ipBan,
    item: IpBan,
    create: Type.Object(
      {
        address: Cidr,
        reason: Type.Optional(Nullable(Description)),
        expiresAt: Type.Optional(Nullable(Timestamp)),
      },
      { additionalProperties: false },
    ),
    update: Patch({ reason: Nullable(Description), expiresAt: Nullable(Timestamp) }),
    list: {
      sortable: ['address', 'createdAt', 'expiresAt', 'hitCount'],
      defaultSort: '-createdAt',
      filters: { address: { type: 'string', op: 'startsWith' } },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    toCreateData: async (ctx, body) => ({
      data: {
        address: canonicalAddress(body.address),
        reason: body.reason ?? null,
        expiresAt: typeof body.expiresAt === 'string' ? new Date(body.expiresAt) : null,
        createdBy: ctx.principal.email,
        createdByUserId: ctx.principal.userId,
      },
    }),
    toUpdateData: async (_ctx, body) => ({
      data: {
        ...body,
        ...(body.expiresAt !== undefined
          ? { expiresAt: typeof body.expiresAt === 'string' ? new Date(body.expiresAt) : null }
          : {}),
      },
    }),
  });
}
