import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { REGISTRATIONS_CHANNEL } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { Id, registerCrud } from '../crud.ts';
import { notFound } from '../errors.ts';
import { Nullable, Timestamp, TransportEnum, Uuid } from '../schemas.ts';
import { scopes, type Where, within } from '../tenancy.ts';
import { ROLES } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * Live registrations (bindings) of the subscribers a principal sees, listed and removed one by one
 * ("kick" a device).
 */

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

/** Who sends the change announcements of removed bindings (sip-core nodes skip only their own). */
const ORIGIN = 'api';

export async function registrationRoutes(
  fastify: FastifyInstance,
  { prisma, now }: RouteOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
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

  /*
   * DELETE: the row goes, and the AOR is announced on the registrations channel, so every sip-core node
   * reloads it and stops routing calls to the device at once. The device is not told: it registers again
   * at its next refresh, as after a registrar restart.
   */
  app.delete(
    '/registrations/:id',
    {
      config: { roles: everyone },
      schema: {
        tags: ['live'],
        operationId: 'deleteRegistration',
        summary: 'Remove a registration (binding); the device drops out until it registers again',
        params: Type.Object({ id: Id }),
        response: { 204: Type.Null({ description: 'Removed' }) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { id } = request.params;
      const removed = await prisma.$transaction(async (tx) => {
        const row = await tx.registration.findFirst({
          where: within(scopes.viaSubscriber(principal), { id }),
        });
        if (row === null) throw notFound('Registration');
        await tx.registration.delete({ where: { id } });
        await writeAudit(tx, request, {
          action: 'delete',
          entity: 'registrations',
          entityId: id,
          before: row,
        });
        return row;
      });
      const payload = JSON.stringify({ aors: [removed.aor], origin: ORIGIN });
      await prisma.$executeRaw`SELECT pg_notify(${REGISTRATIONS_CHANNEL}, ${payload})`;
      return reply.code(204).send(null);
    },
  );
}
