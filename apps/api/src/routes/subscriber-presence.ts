import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../auth/authenticate.ts';
import { IdParams, requireVisible } from '../crud.ts';
import { scopes } from '../tenancy.ts';
import { ROLES } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * Whether a subscriber is offline, online or in a call, as the portal's status dot shows it: online is
 * a registration that has not expired, in a call is a live call with the subscriber as caller or callee
 * (ringing or talking). Phones see the same through presence and dialog subscriptions (docs/presence.md).
 */

export const PresenceStatus = Type.Enum(['offline', 'online', 'in-call']);

export const SubscriberPresence = Type.Object({
  subscriberId: Type.String(),
  status: PresenceStatus,
  registrations: Type.Integer({ description: 'Registrations (devices) that have not expired' }),
  calls: Type.Integer({ description: 'Live calls the subscriber is in, ringing or answered' }),
});

export async function subscriberPresenceRoutes(
  fastify: FastifyInstance,
  { prisma, now, activeCalls }: RouteOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/subscribers/:id/presence',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['subscribers'],
        operationId: 'getSubscriberPresence',
        summary: "A subscriber's presence: offline, online (registered) or in a call",
        params: IdParams,
        response: { 200: SubscriberPresence },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params;
      // Another tenant's subscriber is as unknown as one that does not exist.
      await requireVisible(prisma, (db) => db.subscriber, scopes.subscriber(principal), id, 'Subscriber');
      const [registrations, calls] = await Promise.all([
        prisma.registration.count({ where: { subscriberId: id, expiresAt: { gt: new Date(now()) } } }),
        activeCalls(),
      ]);
      const inCalls = calls.filter((c) => c.callerSubscriberId === id || c.calleeSubscriberId === id).length;
      return {
        subscriberId: id,
        status:
          inCalls > 0 ? ('in-call' as const) : registrations > 0 ? ('online' as const) : ('offline' as const),
        registrations,
        calls: inCalls,
      };
    },
  );
}
