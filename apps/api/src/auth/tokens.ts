import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer credentials. Session tokens (from login) and API keys (for automation) travel in the same
 * `Authorization: Bearer` header and are told apart by their prefix. Only a SHA-256 of each is stored: the
 * credentials are 256-bit random values, so a fast hash is enough to make a leaked table useless.
 */
export const SESSION_TOKEN_PREFIX = 'sbt_';
export const API_KEY_PREFIX = 'sbk_';

export type CredentialKind = 'session' | 'apiKey';

export interface IssuedCredential {
  /** The full secret, returned to the client once. */
  secret: string;
  /** What the database keeps. */
  hash: string;
  /** A short, non-secret label to recognise the credential in lists (prefix + first characters). */
  label: string;
}

export function hashCredential(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function issueCredential(kind: CredentialKind): IssuedCredential {
  const prefix = kind === 'session' ? SESSION_TOKEN_PREFIX : API_KEY_PREFIX;
  const secret = prefix + randomBytes(32).toString('base64url');
  return { secret, hash: hashCredential(secret), label: secret.slice(0, prefix.length + 6) };
}

export function credentialKind(secret: string): CredentialKind | undefined {
  if (secret.startsWith(SESSION_TOKEN_PREFIX)) return 'session';
  if (secret.startsWith(API_KEY_PREFIX)) return 'apiKey';
  return undefined;
}

/** Reads `Authorization: Bearer <credential>`; anything else is treated as absent. */
export function bearerFrom(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ \t]+([A-Za-z0-9_\-.~+/]+=*)[ \t]*$/i.exec(header);
  return m?.[1];
}

export function sameHash(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
