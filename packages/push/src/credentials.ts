import { createPrivateKey } from 'node:crypto';
import type { PushProviderName } from './types.ts';

/** APNs token authentication: the team's signing key (.p8) and the app it pushes to. */
export interface ApnsCredentials {
  provider: 'apns';
  teamId: string;
  keyId: string;
  /** PKCS#8 PEM, the content of the `AuthKey_<keyId>.p8` file. */
  privateKey: string;
  /** The iOS app's bundle id; VoIP pushes go to topic `<bundleId>.voip`. */
  bundleId: string;
  /**
   * Which APNs the app's device tokens belong to: `production` (App Store and TestFlight builds) or
   * `sandbox` (development builds signed with the development certificate); default production.
   */
  environment?: ApnsEnvironment | undefined;
}

export const APNS_ENVIRONMENTS = ['production', 'sandbox'] as const;
export type ApnsEnvironment = (typeof APNS_ENVIRONMENTS)[number];

/** FCM HTTP v1: a Google service account of the Firebase project. */
export interface FcmCredentials {
  provider: 'fcm';
  projectId: string;
  clientEmail: string;
  /** PKCS#8 PEM (`private_key` of the service-account JSON). */
  privateKey: string;
  privateKeyId?: string | undefined;
}

export type PushCredentials = ApnsCredentials | FcmCredentials;

/** What may be shown of credentials: everything but the private key. */
export type PublicSettings = Record<string, string>;

/** Upload input that is not a usable key; `field` names the offending part. */
export class CredentialError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const TEAM_OR_KEY_ID = /^[A-Z0-9]{10}$/;
const BUNDLE_ID = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

function requireKey(pem: unknown, field: string, type: 'ec' | 'rsa'): string {
  if (typeof pem !== 'string' || !pem.includes('PRIVATE KEY'))
    throw new CredentialError(field, 'must be a PEM private key');
  let keyType: string | undefined;
  try {
    keyType = createPrivateKey(pem).asymmetricKeyType;
  } catch {
    throw new CredentialError(field, 'is not a readable private key');
  }
  if (keyType !== type)
    throw new CredentialError(field, `must be an ${type.toUpperCase()} key, not ${keyType}`);
  return pem.trim();
}

/** Checks an APNs upload: ids in Apple's format and a P-256 key. */
export function apnsCredentials(input: {
  teamId: string;
  keyId: string;
  privateKey: string;
  bundleId: string;
  environment?: string | undefined;
}): ApnsCredentials {
  const environment = input.environment ?? 'production';
  if (!(APNS_ENVIRONMENTS as readonly string[]).includes(environment))
    throw new CredentialError('environment', 'must be production or sandbox');
  if (!TEAM_OR_KEY_ID.test(input.teamId))
    throw new CredentialError('teamId', 'must be 10 upper-case letters or digits');
  if (!TEAM_OR_KEY_ID.test(input.keyId))
    throw new CredentialError('keyId', 'must be 10 upper-case letters or digits');
  if (!BUNDLE_ID.test(input.bundleId) || input.bundleId.endsWith('.voip'))
    throw new CredentialError('bundleId', 'must be a bundle id like com.example.phone (without .voip)');
  return {
    provider: 'apns',
    teamId: input.teamId,
    keyId: input.keyId,
    bundleId: input.bundleId,
    environment: environment as ApnsEnvironment,
    privateKey: requireKey(input.privateKey, 'privateKey', 'ec'),
  };
}

/** Reads a Google service-account JSON (the file the Firebase console downloads). */
export function fcmCredentials(serviceAccount: string): FcmCredentials {
  let json: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(serviceAccount);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    json = parsed as Record<string, unknown>;
  } catch {
    throw new CredentialError('serviceAccount', 'must be the service-account JSON');
  }
  if (json.type !== 'service_account')
    throw new CredentialError('serviceAccount', 'type must be service_account');
  const projectId = json.project_id;
  if (typeof projectId !== 'string' || !PROJECT_ID.test(projectId))
    throw new CredentialError('serviceAccount', 'project_id is missing or malformed');
  const clientEmail = json.client_email;
  if (typeof clientEmail !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(clientEmail))
    throw new CredentialError('serviceAccount', 'client_email is missing or malformed');
  const privateKeyId = typeof json.private_key_id === 'string' ? json.private_key_id : undefined;
  return {
    provider: 'fcm',
    projectId,
    clientEmail,
    privateKeyId,
    privateKey: requireKey(json.private_key, 'serviceAccount', 'rsa'),
  };
}

/** Splits credentials into what may be shown and the secret to seal. */
export function splitCredentials(credentials: PushCredentials): { settings: PublicSettings; secret: string } {
  if (credentials.provider === 'apns') {
    const { teamId, keyId, bundleId, privateKey } = credentials;
    const environment = credentials.environment ?? 'production';
    return { settings: { teamId, keyId, bundleId, environment }, secret: privateKey };
  }
  const { projectId, clientEmail, privateKeyId, privateKey } = credentials;
  const settings: PublicSettings = { projectId, clientEmail };
  if (privateKeyId) settings.privateKeyId = privateKeyId;
  return { settings, secret: privateKey };
}

/** Puts shown settings and the unsealed secret back together. */
export function joinCredentials(
  provider: PushProviderName,
  settings: Record<string, unknown>,
  secret: string,
): PushCredentials {
  const text = (name: string): string => {
    const value = settings[name];
    if (typeof value !== 'string') throw new CredentialError(name, 'missing in stored settings');
    return value;
  };
  if (provider === 'apns')
    return {
      provider,
      teamId: text('teamId'),
      keyId: text('keyId'),
      bundleId: text('bundleId'),
      // Rows stored before the environment was a setting are production.
      environment: settings.environment === 'sandbox' ? 'sandbox' : 'production',
      privateKey: secret,
    };
  return {
    provider,
    projectId: text('projectId'),
    clientEmail: text('clientEmail'),
    privateKeyId: typeof settings.privateKeyId === 'string' ? settings.privateKeyId : undefined,
    privateKey: secret,
  };
}
