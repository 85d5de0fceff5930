import type { PrismaClient } from '@switchboard/db';
import { type MetricsRegistry, pushMetrics } from '@switchboard/metrics';
import {
  apnsCredentials,
  CredentialError,
  fcmCredentials,
  loadCredentialsKey,
  PushCredentialStore,
  type PushCredentials,
  type PushEndpoints,
  PushService,
  pushEndpointsFromEnv,
  recordResultIn,
  seal,
  sealingContext,
  splitCredentials,
} from '@switchboard/push';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import { principalOf } from '../auth/authenticate.ts';
import { type CrudContext, IdParams, registerCrud, requireVisible } from '../crud.ts';
import { badRequest, notFound } from '../errors.ts';
import { Nullable, Timestamp, Timestamps, Uuid } from '../schemas.ts';
import { scopes, type Where, within } from '../tenancy.ts';
import type { Principal } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * Push credentials per domain (a domain can have its own iOS and Android apps) and the push state of
 * each binding. The private keys are sealed (AES-256-GCM) before they are stored and are never
 * returned: the API shows only the ids that identify them.
 */

/** How the API reaches the push services and seals credentials; every field has a default. */
export interface ApiPushOptions {
  /** Sealing key; default `PUSH_CREDENTIALS_KEY`, else the key file in `dataDir`. */
  credentialsKey?: Buffer;
  /** Where the key file lives; default `DATA_DIR`, else `./data`. */
  dataDir?: string;
  /** Default from `PUSH_APNS_URL`, `PUSH_APNS_SANDBOX_URL`, `PUSH_FCM_URL`, `PUSH_FCM_TOKEN_URL`. */
  endpoints?: Partial<PushEndpoints>;
  /** Trusted CA (PEM) for the push services instead of the system store (tests). */
  ca?: string;
  /** Secret of the wake tokens; a test push carries none, so any value works. */
  tokenSecret?: string;
}

export interface PushRouteOptions extends RouteOptions {
  push?: ApiPushOptions | undefined;
  logger: Logger;
  /** Where test pushes are counted (`switchboard_push_notifications_total`, purpose `test`). */
  metrics?: MetricsRegistry;
}

const Provider = Type.Enum(['apns', 'fcm'], { description: '`apns` (iOS, PushKit) or `fcm` (Android)' });

export const PushCredential = Type.Object({
  id: Uuid,
  domainId: Uuid,
  provider: Provider,
  settings: Type.Record(Type.String(), Type.String(), {
    description:
      'APNs: teamId, keyId, bundleId, environment. FCM: projectId, clientEmail, privateKeyId. Never the key.',
  }),
  ...Timestamps,
});

const Upload = {
  teamId: Type.Optional(Type.String({ description: 'APNs: Apple team id (10 characters)' })),
  keyId: Type.Optional(Type.String({ description: 'APNs: id of the .p8 signing key (10 characters)' })),
  bundleId: Type.Optional(Type.String({ description: 'APNs: bundle id of the iOS app, without .voip' })),
  environment: Type.Optional(
    Type.Enum(['production', 'sandbox'], {
      description: 'APNs: production (App Store, TestFlight; default) or sandbox (development builds)',
    }),
  ),
  privateKey: Type.Optional(
    Type.String({ maxLength: 8192, description: 'APNs: content of the AuthKey_<keyId>.p8 file (PEM)' }),
  ),
  serviceAccount: Type.Optional(
    Type.String({ maxLength: 16384, description: 'FCM: the service-account JSON file, as text' }),
  ),
};

const CreateBody = Type.Object(
  { domainId: Uuid, provider: Provider, ...Upload },
  { additionalProperties: false },
);
const ReplaceBody = Type.Object(Upload, { additionalProperties: false });

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

/** Credentials belong to the domain's owner: every domain for the operator, its own for a reseller. */
function credentialScope(p: Principal): Where {
  if (p.role === 'operator') return {};
  return { domain: scopes.domainForNewSubscribers(p) };
}

function toCredential(row: Record<string, unknown>): Record<string, unknown> {
  const { sealedSecret: _sealed, ...shown } = row;
  return shown;
}

/** Reads an upload for `provider`; a bad field is a 400 naming it. */
function credentialsOf(provider: 'apns' | 'fcm', body: Record<string, unknown>): PushCredentials {
  const text = (name: string): string => {
    const value = body[name];
    if (typeof value !== 'string' || value.trim() === '')
      throw badRequest(`${name} is required for ${provider}`, [
        { field: `/body/${name}`, message: 'required' },
      ]);
    return value;
  };
  const foreign =
    provider === 'apns' ? ['serviceAccount'] : ['teamId', 'keyId', 'bundleId', 'privateKey', 'environment'];
  for (const name of foreign) {
    if (body[name] !== undefined)
      throw badRequest(`${name} does not belong to ${provider}`, [
        { field: `/body/${name}`, message: 'not allowed' },
      ]);
  }
  try {
    return provider === 'apns'
      ? apnsCredentials({
          teamId: text('teamId'),
          keyId: text('keyId'),
          bundleId: text('bundleId'),
          privateKey: text('privateKey'),
          environment: typeof body.environment === 'string' ? body.environment : undefined,
        })
      : fcmCredentials(text('serviceAccount'));
  } catch (error) {
    if (error instanceof CredentialError)
      throw badRequest(`${error.field} ${error.message}`, [
        { field: `/body/${error.field}`, message: error.message },
      ]);
    throw error;
  }
}

export async function pushCredentialRoutes(app: FastifyInstance, options: PushRouteOptions): Promise<void> {
  const { prisma, now } = options;
  const settings = options.push ?? {};
  let key = settings.credentialsKey;
  const sealingKey = (): Buffer => {
    key ??= loadCredentialsKey({ dataDir: settings.dataDir ?? process.env.DATA_DIR ?? './data' });
    return key;
  };
  const sealed = (domainId: string, credentials: PushCredentials) => {
    const { settings: shown, secret } = splitCredentials(credentials);
    return {
      settings: shown,
      sealedSecret: seal(sealingKey(), secret, sealingContext(domainId, credentials.provider)),
    };
  };

  registerCrud(app, prisma, {
    path: '/push-credentials',
    entity: 'push-credentials',
    singular: 'push credential',
    tag: 'push',
    model: 'pushCredential',
    item: PushCredential,
    create: CreateBody,
    update: ReplaceBody,
    list: {
      sortable: ['createdAt', 'provider'],
      defaultSort: 'createdAt',
      filters: { domainId: { type: 'string' }, provider: { type: 'enum', values: ['apns', 'fcm'] } },
    },
    readRoles: ['operator', 'reseller'],
    writeRoles: ['operator', 'reseller'],
    readScope: credentialScope,
    toItem: toCredential,
    toCreateData: async (ctx: CrudContext, body) => {
      const domainId = String(body.domainId);
      await requireVisible(
        ctx.tx,
        'domain',
        scopes.domainForNewSubscribers(ctx.principal),
        domainId,
        'Domain',
        '/body/domainId',
      );
      const credentials = credentialsOf(body.provider as 'apns' | 'fcm', body);
      return { data: { domainId, provider: credentials.provider, ...sealed(domainId, credentials) } };
    },
    // Replacing uploads the whole key again: a half-changed key pair is never stored.
    toUpdateData: async (_ctx, body, existing) => {
      const credentials = credentialsOf(existing.provider as 'apns' | 'fcm', body);
      return { data: sealed(String(existing.domainId), credentials) };
    },
  });

  // Bindings of the caller's subscribers that carry RFC 8599 push parameters, with their push state.
  const pushBindingScope = (p: Principal): Where =>
    within(scopes.viaSubscriber(p), { pnProvider: { not: null }, expiresAt: { gt: new Date(now()) } });
  registerCrud(app, prisma, {
    path: '/push-bindings',
    entity: 'push-bindings',
    singular: 'push binding',
    tag: 'push',
    model: 'registration',
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
      deviceTokenEnd: String(row.pnPrid ?? '').slice(-8),
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
      const { id } = request.params as { id: string };
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
