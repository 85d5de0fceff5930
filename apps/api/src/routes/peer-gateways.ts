import { type PeerGateway as PeerGatewayRow, sipHa1 } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Cidr, isCidr } from '../cidr.ts';
import { registerCrud } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { HostName, Name, Nullable, Patch, Timestamps, TransportEnum, Uuid } from '../schemas.ts';
import type { RouteOptions } from './options.ts';
import { all, groupParent, operatorOnly } from './peering-groups.ts';

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
};
const AuthPassword = Nullable(
  Type.String({ minLength: 1, maxLength: 128, description: 'Write-only; never returned' }),
);
export const PeerGateway = Type.Object({
  id: Uuid,
  groupId: Uuid,
  ...GatewayProps,
  hasAuthPassword: Type.Boolean({ description: 'Whether credentials for the peer are configured' }),
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
 * Peer credentials: with a realm, store only the HA1 digests; without one, the password has to be kept (the
 * realm comes from the peer's challenge), never returned by the API.
 */
interface GatewayCredentialFields {
  authUsername?: string | null;
  authRealm?: string | null;
  authPassword?: string | null;
}

function gatewayCredentials(body: GatewayCredentialFields, existing?: PeerGatewayRow): object {
  const { authPassword, ...rest } = body;
  const username = body.authUsername !== undefined ? body.authUsername : (existing?.authUsername ?? null);
  const realm = body.authRealm !== undefined ? body.authRealm : (existing?.authRealm ?? null);
  if (authPassword === undefined) {
    if (body.authUsername !== undefined || body.authRealm !== undefined) {
      if (
        existing?.authHa1Md5 &&
        !existing.authPassword &&
        (username !== existing.authUsername || realm !== existing.authRealm)
      ) {
        throw badRequest('Changing the username or realm needs the password again', [
          { field: '/body/authPassword', message: 'required when authUsername or authRealm changes' },
        ]);
      }
    }
    return rest;
  }
  if (authPassword === null) return { ...rest, authPassword: null, authHa1Md5: null, authHa1Sha256: null };
  if (!username) {
    throw badRequest('A password needs a username', [
      { field: '/body/authUsername', message: 'required with authPassword' },
    ]);
  }
  if (realm) {
    const ha1 = sipHa1(username, realm, authPassword);
    return { ...rest, authPassword: null, authHa1Md5: ha1.ha1Md5, authHa1Sha256: ha1.ha1Sha256 };
  }
  return { ...rest, authPassword, authHa1Md5: null, authHa1Sha256: null };
}

const gatewayItem = (row: PeerGatewayRow) => ({
  ...row,
  hasAuthPassword: Boolean(row.authPassword) || Boolean(row.authHa1Md5),
});

export async function peerGatewayRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/peering-groups/:groupId/gateways',
    entity: 'peer-gateways',
    singular: 'gateway',
    tag: 'peering',
    model: (db) => db.peerGateway,
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
      },
      { additionalProperties: false },
    ),
    update: Patch({ ...GatewayProps, authPassword: AuthPassword }),
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
      return { data: gatewayCredentials(body) };
    },
    toUpdateData: async (_ctx, body, existing) => {
      checkSources(body.trustedSources);
      return { data: gatewayCredentials(body, existing) };
    },
  });
}
