import { randomBytes } from 'node:crypto';
import type { PeerGateway as PeerGatewayRow, PeerGatewayStatus } from '@switchboard/db';
import { gatewaySecretContext, seal } from '@switchboard/push';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Cidr, isCidr } from '../cidr.ts';
import { including, registerCrud } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { HostName, Name, Nullable, Patch, Timestamps, TransportEnum, Uuid } from '../schemas.ts';
import type { RouteOptions } from './options.ts';
import { gatewayStatusRoute, StatusSummary, statusSummary } from './peer-gateway-status.ts';
import { all, groupParent, operatorOnly } from './peering-groups.ts';
import { type ApiPushOptions, lazySealingKey } from './push-credentials.ts';

/** The SIP peers (PSTN gateways) of a peering group, with their credentials and trusted sources. */

const GatewayProps = {
  name: Name,
  host: HostName,
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  transport: TransportEnum,
  authUsername: Nullable(Type.String({ minLength: 1, maxLength: 128 })),
  authRealm: Nullable(Type.String({ minLength: 1, maxLength: 253 })),
  priority: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  weight: Type.Integer({ minimum: 0, maximum: 65535 }),
  enabled: Type.Boolean(),
  trustedSources: Type.Array(Cidr, { maxItems: 100 }),
  registerEnabled: Type.Boolean({
    description: 'Register this platform to the carrier (trunk registration)',
  }),
  registrarUri: Nullable(
    Type.String({
      pattern: '^sips?:[^\\s<>"]{1,250}$',
      description: 'Registrar Request-URI, e.g. sip:reg.carrier.example',
    }),
  ),
  registerUsername: Nullable(Type.String({ minLength: 1, maxLength: 128 })),
  registerRealm: Nullable(Type.String({ minLength: 1, maxLength: 253 })),
  registerExpires: Type.Integer({ minimum: 1, maximum: 86_400, description: 'Expiry asked for, seconds' }),
  registerOutboundProxy: Nullable(Type.String({ pattern: '^sips?:[^\\s<>"]{1,250}$' })),
  registerTransport: Type.Enum(['udp', 'tcp', 'tls']),
  registerContactUser: Nullable(
    Type.String({
      pattern: '^[A-Za-z0-9._~-]{8,64}$',
      description: 'User part of the registered contact; calls to it come from this gateway. Default: random',
    }),
  ),
  healthCheck: Type.Boolean({ description: 'Ping the gateway with OPTIONS; LCR skips it while down' }),
  healthInterval: Type.Integer({ minimum: 1, maximum: 3600, description: 'Seconds between OPTIONS' }),
  healthThreshold: Type.Integer({
    minimum: 1,
    maximum: 100,
    description: 'Unanswered OPTIONS in a row before down',
  }),
};
const Secret = Nullable(
  Type.String({ minLength: 1, maxLength: 128, description: 'Write-only; never returned' }),
);
const AuthPassword = Secret;
export const PeerGateway = Type.Object({
  id: Uuid,
  groupId: Uuid,
  ...GatewayProps,
  hasAuthPassword: Type.Boolean({ description: 'Whether credentials for the peer are configured' }),
  hasRegisterPassword: Type.Boolean({ description: 'Whether a registration password is configured' }),
  status: StatusSummary,
  ...Timestamps,
});

function checkSources(list: readonly string[] | undefined): void {
  list?.forEach((s, i) => {
    if (!isCidr(s)) {
      throw badRequest('Not an IP address or CIDR block', [
        { field: `/body/trustedSources/${i}`, message: 'expected IP or CIDR' },
      ]);
    }
  });
}

/**
 * Peer credentials are sealed (AES-256-GCM, the platform key), never stored plain: drachtio-srf answers
 * a gateway's challenge from the password, and the realm is only known from the challenge, so an HA1
 * does not serve (docs/sbc.md). Changing the username or realm of a gateway that an older version
 * stored with only an HA1 needs the password again.
 */
interface GatewayCredentialFields {
  authUsername?: string | null;
  authRealm?: string | null;
  authPassword?: string | null;
  registerEnabled?: boolean;
  registrarUri?: string | null;
  registerUsername?: string | null;
  registerPassword?: string | null;
  registerContactUser?: string | null;
}

type Sealer = (secret: string, purpose: 'auth' | 'register') => string;

function gatewayCredentials(body: GatewayCredentialFields, seal_: Sealer, existing?: PeerGatewayRow): object {
  const { authPassword, registerPassword, ...rest } = body;
  const data: Record<string, unknown> = { ...rest, ...registration(body, seal_, existing) };
  const username = body.authUsername !== undefined ? body.authUsername : (existing?.authUsername ?? null);
  const realm = body.authRealm !== undefined ? body.authRealm : (existing?.authRealm ?? null);
  if (authPassword === undefined) {
    if (
      (body.authUsername !== undefined || body.authRealm !== undefined) &&
      existing?.authHa1Md5 &&
      !existing.authPassword &&
      !existing.authPasswordSealed &&
      (username !== existing.authUsername || realm !== existing.authRealm)
    ) {
      throw badRequest('Changing the username or realm needs the password again', [
        { field: '/body/authPassword', message: 'required when authUsername or authRealm changes' },
      ]);
    }
    return data;
  }
  const cleared = { authPassword: null, authHa1Md5: null, authHa1Sha256: null };
  if (authPassword === null) return { ...data, ...cleared, authPasswordSealed: null };
  if (!username) {
    throw badRequest('A password needs a username', [
      { field: '/body/authUsername', message: 'required with authPassword' },
    ]);
  }
  return { ...data, ...cleared, authPasswordSealed: seal_(authPassword, 'auth') };
}

/** Trunk registration fields: the password sealed, a random contact user when none is given. */
function registration(body: GatewayCredentialFields, seal_: Sealer, existing?: PeerGatewayRow): object {
  const data: Record<string, unknown> = {};
  if (body.registerPassword !== undefined)
    data.registerPasswordSealed =
      body.registerPassword === null ? null : seal_(body.registerPassword, 'register');
  const enabled = body.registerEnabled ?? existing?.registerEnabled ?? false;
  if (!enabled) return data;
  const uri = body.registrarUri !== undefined ? body.registrarUri : (existing?.registrarUri ?? null);
  const user =
    body.registerUsername !== undefined ? body.registerUsername : (existing?.registerUsername ?? null);
  if (!uri)
    throw badRequest('Trunk registration needs a registrar URI', [
      { field: '/body/registrarUri', message: 'required when registerEnabled' },
    ]);
  if (!user)
    throw badRequest('Trunk registration needs a username', [
      { field: '/body/registerUsername', message: 'required when registerEnabled' },
    ]);
  const contact =
    body.registerContactUser !== undefined ? body.registerContactUser : existing?.registerContactUser;
  // Random and long: a request to this contact is trusted as the carrier's, so it must not be guessable.
  if (!contact) data.registerContactUser = `tr-${randomBytes(12).toString('hex')}`;
  return data;
}

type Row = PeerGatewayRow & { status: PeerGatewayStatus | null };

const gatewayItem = (row: Row) => {
  const {
    authPassword,
    authPasswordSealed,
    authHa1Md5,
    authHa1Sha256,
    registerPasswordSealed,
    status,
    ...visible
  } = row;
  return {
    ...visible,
    hasAuthPassword: Boolean(authPassword) || Boolean(authPasswordSealed) || Boolean(authHa1Md5),
    hasRegisterPassword: Boolean(registerPasswordSealed),
    status: statusSummary(row, status),
  };
};

export async function peerGatewayRoutes(
  app: FastifyInstance,
  options: RouteOptions & { push?: ApiPushOptions | undefined },
): Promise<void> {
  const { prisma } = options;
  const sealingKey = lazySealingKey(options.push ?? {});
  const sealSecret: Sealer = (secret, purpose) => seal(sealingKey(), secret, gatewaySecretContext(purpose));
  registerCrud(app, prisma, {
    path: '/peering-groups/:groupId/gateways',
    entity: 'peer-gateways',
    singular: 'gateway',
    tag: 'peering',
    ...including((db) => db.peerGateway, { status: true }),
    item: PeerGateway,
    parent: groupParent,
    toItem: gatewayItem,
    create: Type.Object(
      {
        name: Name,
        host: HostName,
        port: Type.Optional(GatewayProps.port),
        transport: Type.Optional(GatewayProps.transport),
        authUsername: Type.Optional(GatewayProps.authUsername),
        authPassword: Type.Optional(AuthPassword),
        authRealm: Type.Optional(GatewayProps.authRealm),
        priority: Type.Optional(GatewayProps.priority),
        weight: Type.Optional(GatewayProps.weight),
        enabled: Type.Optional(GatewayProps.enabled),
        trustedSources: Type.Optional(GatewayProps.trustedSources),
        registerEnabled: Type.Optional(GatewayProps.registerEnabled),
        registrarUri: Type.Optional(GatewayProps.registrarUri),
        registerUsername: Type.Optional(GatewayProps.registerUsername),
        registerPassword: Type.Optional(Secret),
        registerRealm: Type.Optional(GatewayProps.registerRealm),
        registerExpires: Type.Optional(GatewayProps.registerExpires),
        registerOutboundProxy: Type.Optional(GatewayProps.registerOutboundProxy),
        registerTransport: Type.Optional(GatewayProps.registerTransport),
        registerContactUser: Type.Optional(GatewayProps.registerContactUser),
        healthCheck: Type.Optional(GatewayProps.healthCheck),
        healthInterval: Type.Optional(GatewayProps.healthInterval),
        healthThreshold: Type.Optional(GatewayProps.healthThreshold),
      },
      { additionalProperties: false },
    ),
    update: Patch({ ...GatewayProps, authPassword: AuthPassword, registerPassword: Secret }),
    list: {
      sortable: ['name', 'priority', 'weight', 'createdAt'],
      defaultSort: 'priority,name',
      filters: {
        name: { type: 'string', op: 'contains' },
        host: { type: 'string' },
        enabled: { type: 'boolean' },
      },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    toCreateData: async (_ctx, body) => {
      checkSources(body.trustedSources);
      return { data: gatewayCredentials(body, sealSecret) };
    },
    toUpdateData: async (_ctx, body, existing) => {
      checkSources(body.trustedSources);
      return { data: gatewayCredentials(body, sealSecret, existing) };
    },
  });
  gatewayStatusRoute(app, prisma);
}
