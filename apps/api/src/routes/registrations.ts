import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { registerCrud } from '../crud.ts';
import { Nullable, Timestamp, TransportEnum, Uuid } from '../schemas.ts';
import { scopes, type Where, within } from '../tenancy.ts';
import { ROLES } from '../types.ts';
import type { RouteOptions } from './options.ts';

/** Live registrations (bindings) of the subscribers a principal sees. */

const everyone = ROLES;

export const Registration = Type.Object({
  id: Uuid,
  subscriberId: Uuid,
  aor: Type.String(),
  contactUri: Type.String(),
  receivedAddress: Type.String(),
  receivedPort: Type.Integer(),
  transport: TransportEnum,
  userAgent: Nullable(Type.String()),
  instanceId: Nullable(Type.String()),
  regId: Nullable(Type.Integer()),
  q: Nullable(Type.Number()),
  node: Type.String(),
  expiresAt: Timestamp,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export async function registrationRoutes(app: FastifyInstance, { prisma, now }: RouteOptions): Promise<void> {
  const live = (): Where => ({ expiresAt: { gt: new Date(now()) } });
  registerCrud(app, prisma, {
    path: '/registrations',
    entity: 'registrations',
    singular: 'registration',
    tag: 'live',
    model: (db) => db.registration,
    item: Registration,
    verbs: ['list', 'read'],
    list: {
      sortable: ['aor', 'expiresAt', 'createdAt'],
      defaultSort: 'aor',
      filters: {
        subscriberId: { type: 'string' },
        aor: { type: 'string', op: 'contains' },
        transport: { type: 'enum', values: ['udp', 'tcp', 'tls', 'ws', 'wss'] },
      },
    },
    readRoles: everyone,
    writeRoles: [],
    readScope: (p) => within(scopes.viaSubscriber(p), live()),
  });
}
