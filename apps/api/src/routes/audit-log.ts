import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { registerCrud } from '../crud.ts';
import { Nullable, Timestamp, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import { ROLES } from '../types.ts';
import type { RouteOptions } from './options.ts';

/** The audit log: who changed what, with the record before and after (secrets removed). */

const everyone = ROLES;

export const AuditEntry = Type.Object({
  id: Uuid,
  at: Timestamp,
  actor: Type.String(),
  actorUserId: Nullable(Uuid),
  actorApiKeyId: Nullable(Uuid),
  action: Type.String(),
  entity: Type.String(),
  entityId: Nullable(Type.String()),
  before: Type.Unknown({ description: 'The record before the change, secrets removed' }),
  after: Type.Unknown({ description: 'The record after the change, secrets removed' }),
  sourceIp: Nullable(Type.String()),
});

export async function auditLogRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/audit-log',
    entity: 'audit-log',
    singular: 'audit entry',
    tag: 'audit',
    model: (db) => db.auditEntry,
    item: AuditEntry,
    verbs: ['list', 'read'],
    list: {
      sortable: ['at', 'entity', 'action'],
      defaultSort: '-at',
      filters: {
        entity: { type: 'string' },
        entityId: { type: 'string' },
        action: { type: 'string' },
        actorUserId: { type: 'string' },
        from: { type: 'datetime', field: 'at', op: 'gte' },
        to: { type: 'datetime', field: 'at', op: 'lt' },
      },
    },
    readRoles: everyone,
    writeRoles: [],
    readScope: scopes.auditEntry,
  });
}
