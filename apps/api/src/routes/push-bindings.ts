import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { PrismaClient } from '@switchboard/db';
import { pushMetrics } from '@switchboard/metrics';
import { PushCredentialStore, PushService, pushEndpointsFromEnv, recordResultIn } from '@switchboard/push';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../auth/authenticate.ts';
import { IdParams, registerCrud } from '../crud.ts';
import { notFound } from '../errors.ts';
import { Nullable, Timestamp, Uuid } from '../schemas.ts';
import { scopes, type Where, within } from '../tenancy.ts';
import type { Principal } from '../types.ts';
import { lazySealingKey, Provider, type PushRouteOptions } from './push-credentials.ts';

/** The push state of each binding that registered with RFC 8599 push parameters, and a test push. */

export const PushBinding = Type.Object({
  id: Uuid,
  subscriberId: Uuid,
  aor: Type.String(),
  pnProvider: Type.String(),
  pnParam: Nullable(Type.String()),
  deviceTokenEnd: Type.String({ description: 'Last 8 characters of pn-prid, to tell devices apart' }),
  refreshLeadSeconds: Nullable(
    Type.Integer({ description: '+sip.pnsreg granted; null: the device refreshes itself' }),
  ),
  expiresAt: Timestamp,
  lastPushAt: Nullable(Timestamp),
  lastPushResult: Nullable(Type.String()),
});

const TestResult = Type.Object({
  outcome: Type.Enum(['delivered', 'unregistered', 'rate_limited', 'rejected', 'failed']),
  provider: Nullable(Provider),
  status: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
  retryAfterMs: Type.Optional(Type.Integer()),
});

export async function pushBindingRoutes(fastify: FastifyInstance, options: PushRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { prisma, now } = options;
  const settings = options.push ?? {};
  const sealingKey = lazySealingKey(settings);
  // Bindings of the caller's subscribers that carry RFC 8599 push parameters, with their push state.
  const pushBindingScope = (p: Principal): Where =>
    within(scopes.viaSubscriber(p), { pnProvider: { not: null }, expiresAt: { gt: new Date(now()) } });
  registerCrud(app, prisma, {
    path: '/push-bindings',
    entity: 'push-bindings',
    singular: 'push binding',
    tag: 'push',
    model: (db) => db.registration,
    item: PushBinding,
    verbs: ['list', 'read'],
    list: {
      sortable: ['aor', 'expiresAt', 'pushLastAt'],
      defaultSort: 'aor',
      filters: { subscriberId: { type: 'string' }, pnProvider: { type: 'enum', values: ['apns', 'fcm'] } },
    },
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: [],
    readScope: pushBindingScope,
    toItem: (row) => ({
      id: row.id,
      subscriberId: row.subscriberId,
      aor: row.aor,
      pnProvider: row.pnProvider,
      pnParam: row.pnParam,
      deviceTokenEnd: (row.pnPrid ?? '').slice(-8),
      refreshLeadSeconds: row.pnRefresh,
      expiresAt: row.expiresAt,
      lastPushAt: row.pushLastAt,
      lastPushResult: row.pushLastResult,
    }),
  });

  let service: PushService | undefined;
  const pushService = (): PushService => {
    service ??= new PushService({
      // Read per push: credentials replaced a moment ago apply to the next test push.
      credentials: {
        get: (domain, provider) =>
          new PushCredentialStore(prisma, sealingKey(), options.logger).get(domain, provider),
      },
      endpoints: { ...pushEndpointsFromEnv(), ...settings.endpoints },
      ...(settings.ca ? { ca: settings.ca } : {}),
      tokenSecret: settings.tokenSecret ?? 'test-push',
      log: options.logger.child({ component: 'push' }),
      onResult: recordResultIn(prisma),
      onUnregistered: (binding) => removeBinding(prisma, binding),
      ...(options.metrics ? { countIn: pushMetrics(options.metrics).notifications } : {}),
    });
    return service;
  };
  app.addHook('onClose', async () => service?.close());

  app.post(
    '/push-bindings/:id/test',
    {
      config: { roles: ['operator', 'reseller', 'customer'] },
      schema: {
        tags: ['push'],
        operationId: 'testPushBinding',
        summary: 'Send a test push to the device of a binding',
        params: IdParams,
        response: { 200: TestResult },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params;
      const row = await prisma.registration.findFirst({ where: within(pushBindingScope(principal), { id }) });
      if (row === null) throw notFound('Push binding');
      const result = await pushService().test(row);
      return {
        outcome: result.outcome,
        provider: result.provider,
        ...(result.status !== undefined ? { status: result.status } : {}),
        ...(result.reason !== undefined ? { reason: result.reason } : {}),
        ...(result.retryAfterMs !== undefined ? { retryAfterMs: result.retryAfterMs } : {}),
      };
    },
  );
}

/**
 * The push service says the device token is dead: remove the binding and announce its AOR on
 * sip-core's registrations channel (`switchboard_registrations`), so every node reloads it.
 */
async function removeBinding(
  prisma: PrismaClient,
  binding: { aor: string; bindingKey: string },
): Promise<void> {
  await prisma.registration.deleteMany({ where: { aor: binding.aor, bindingKey: binding.bindingKey } });
  const payload = JSON.stringify({ aors: [binding.aor], origin: 'api' });
  await prisma.$executeRaw`SELECT pg_notify('switchboard_registrations', ${payload})`;
}
