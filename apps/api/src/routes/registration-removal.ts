import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { REGISTRATIONS_CHANNEL } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { Id } from '../crud.ts';
import { notFound } from '../errors.ts';
import { scopes, within } from '../tenancy.ts';
import type { RouteOptions } from './options.ts';

/** Who sends the change announcements of removed bindings (sip-core nodes skip only their own). */
const ORIGIN = 'api';

/**
 * `DELETE /registrations/{id}`: removes one binding ("kick" a device). The row goes, and the AOR is announced
 * on the registrations channel, so every sip-core node reloads it and stops routing calls to the device at
 * once. The device is not told: it registers again at its next refresh, as after a registrar restart.
 */
export async function registrationRemovalRoutes(
  fastify: FastifyInstance,
  { prisma }: RouteOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.delete(
    '/registrations/:id',
    {
      config: { roles: ['operator', 'reseller', 'customer'] },
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
