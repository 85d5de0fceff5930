import type { PushCredential as PushCredentialRow } from '@switchboard/db';
import type { MetricsRegistry } from '@switchboard/metrics';
import {
  apnsCredentials,
  CredentialError,
  fcmCredentials,
  loadCredentialsKey,
  type PushCredentials,
  type PushEndpoints,
  seal,
  sealingContext,
  splitCredentials,
} from '@switchboard/push';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Static, Type } from 'typebox';
import { type CrudContext, registerCrud, requireVisible } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Timestamps, Uuid } from '../schemas.ts';
import { scopes, type Where } from '../tenancy.ts';
import type { Principal } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * Push credentials per domain (a domain can have its own iOS and Android apps). The private keys are sealed (AES-256-GCM) before they are stored and are never
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

export const Provider = Type.Enum(['apns', 'fcm'], {
  description: '`apns` (iOS, PushKit) or `fcm` (Android)',
});

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

/** Credentials belong to the domain's owner: every domain for the operator, its own for a reseller. */
function credentialScope(p: Principal): Where {
  if (p.role === 'operator') return {};
  return { domain: scopes.domainForNewSubscribers(p) };
}

function toCredential(row: PushCredentialRow): Omit<PushCredentialRow, 'sealedSecret'> {
  const { sealedSecret: _sealed, ...shown } = row;
  return shown;
}

type UploadFields = Static<typeof ReplaceBody>;

/** Reads an upload for `provider`; a bad field is a 400 naming it. */
function credentialsOf(provider: string, body: UploadFields): PushCredentials {
  const text = (name: keyof UploadFields): string => {
    const value = body[name];
    if (typeof value !== 'string' || value.trim() === '')
      throw badRequest(`${name} is required for ${provider}`, [
        { field: `/body/${name}`, message: 'required' },
      ]);
    return value;
  };
  const foreign: readonly (keyof UploadFields)[] =
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
          environment: body.environment,
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

/** The sealing key, loaded on first use (a deployment without push never needs one). */
export function lazySealingKey(settings: ApiPushOptions): () => Buffer {
  let key = settings.credentialsKey;
  return (): Buffer => {
    key ??= loadCredentialsKey({ dataDir: settings.dataDir ?? process.env.DATA_DIR ?? './data' });
    return key;
  };
}

export async function pushCredentialRoutes(app: FastifyInstance, options: PushRouteOptions): Promise<void> {
  const { prisma } = options;
  const sealingKey = lazySealingKey(options.push ?? {});
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
    model: (db) => db.pushCredential,
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
      const domainId = body.domainId;
      await requireVisible(
        ctx.tx,
        (db) => db.domain,
        scopes.domainForNewSubscribers(ctx.principal),
        domainId,
        'Domain',
        '/body/domainId',
      );
      const credentials = credentialsOf(body.provider, body);
      return { data: { domainId, provider: credentials.provider, ...sealed(domainId, credentials) } };
    },
    // Replacing uploads the whole key again: a half-changed key pair is never stored.
    toUpdateData: async (_ctx, body, existing) => {
      const credentials = credentialsOf(existing.provider, body);
      return { data: sealed(existing.domainId, credentials) };
    },
  });
}
