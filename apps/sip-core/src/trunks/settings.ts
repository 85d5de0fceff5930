import type { PeerGateway } from '@switchboard/db';
import { gatewaySecretContext, unseal } from '@switchboard/push';

/** What sealed gateway secrets are bound to (authenticated data): a secret opens only for its purpose. */
export const GATEWAY_AUTH_CONTEXT = gatewaySecretContext('auth');
export const GATEWAY_REGISTER_CONTEXT = gatewaySecretContext('register');

/** One trunk registration as the register client needs it, secrets opened. */
export interface TrunkSettings {
  gatewayId: string;
  registrarUri: string;
  /** Where the REGISTER goes: the outbound proxy, else the registrar, with the transport. */
  proxy: string;
  transport: 'udp' | 'tcp' | 'tls';
  username: string;
  password?: string;
  /** When set, only a challenge of this realm is answered. */
  realm?: string;
  contactUser: string;
  expires: number;
}

/** The OPTIONS health check of one gateway. */
export interface HealthSettings {
  gatewayId: string;
  /** Request-URI and next hop of the OPTIONS. */
  uri: string;
  proxy: string;
  intervalMs: number;
  threshold: number;
}

/** The columns the trunk manager reads. */
export type GatewayRow = Pick<
  PeerGateway,
  | 'id'
  | 'host'
  | 'port'
  | 'transport'
  | 'enabled'
  | 'authUsername'
  | 'authPassword'
  | 'authPasswordSealed'
  | 'authRealm'
  | 'authHa1Md5'
  | 'registerEnabled'
  | 'registrarUri'
  | 'registerUsername'
  | 'registerPasswordSealed'
  | 'registerRealm'
  | 'registerExpires'
  | 'registerOutboundProxy'
  | 'registerTransport'
  | 'registerContactUser'
  | 'healthCheck'
  | 'healthInterval'
  | 'healthThreshold'
>;

export const GATEWAY_SELECT = {
  id: true,
  host: true,
  port: true,
  transport: true,
  enabled: true,
  authUsername: true,
  authPassword: true,
  authPasswordSealed: true,
  authRealm: true,
  authHa1Md5: true,
  registerEnabled: true,
  registrarUri: true,
  registerUsername: true,
  registerPasswordSealed: true,
  registerRealm: true,
  registerExpires: true,
  registerOutboundProxy: true,
  registerTransport: true,
  registerContactUser: true,
  healthCheck: true,
  healthInterval: true,
  healthThreshold: true,
} as const;

function hostPort(uri: string): string {
  // sip:user@host:port;params -> host:port (the registrar URI is checked by the API).
  const body = uri.replace(/^sips?:/i, '').split(';')[0] ?? '';
  return body.includes('@') ? body.slice(body.indexOf('@') + 1) : body;
}

/** The trunk registration of a gateway row, or null when it does not register (or cannot). */
export function trunkSettings(row: GatewayRow, key: () => Buffer): TrunkSettings | null {
  if (
    !row.enabled ||
    !row.registerEnabled ||
    !row.registrarUri ||
    !row.registerUsername ||
    !row.registerContactUser
  )
    return null;
  const transport = row.registerTransport;
  // A registration goes over UDP, TCP or TLS (a carrier is no WebSocket client).
  if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') return null;
  const via = row.registerOutboundProxy ?? row.registrarUri;
  const settings: TrunkSettings = {
    gatewayId: row.id,
    registrarUri: row.registrarUri,
    proxy: `sip:${hostPort(via)};transport=${transport}`,
    transport,
    username: row.registerUsername,
    contactUser: row.registerContactUser,
    expires: row.registerExpires,
  };
  if (row.registerRealm) settings.realm = row.registerRealm;
  if (row.registerPasswordSealed)
    settings.password = unseal(key(), row.registerPasswordSealed, GATEWAY_REGISTER_CONTEXT);
  return settings;
}

/** The gateway's health check, or null when it is off. */
export function healthSettings(row: GatewayRow): HealthSettings | null {
  if (!row.enabled || !row.healthCheck) return null;
  const host = row.host.includes(':') && !row.host.startsWith('[') ? `[${row.host}]` : row.host;
  return {
    gatewayId: row.id,
    uri: `sip:${host}:${row.port}`,
    proxy: `sip:${host}:${row.port};transport=${row.transport}`,
    intervalMs: row.healthInterval * 1000,
    threshold: row.healthThreshold,
  };
}

/**
 * The password the B leg answers a gateway's challenge with (drachtio-srf computes the digest from a
 * password): the sealed one, else a clear-text one an older version stored. A gateway with only an
 * HA1 (older versions with `authRealm`) has none: its credentials must be entered again.
 */
export function outboundPassword(
  row: Pick<GatewayRow, 'authPassword' | 'authPasswordSealed'>,
  key: () => Buffer,
): string | null {
  if (row.authPasswordSealed) return unseal(key(), row.authPasswordSealed, GATEWAY_AUTH_CONTEXT);
  return row.authPassword ?? null;
}
