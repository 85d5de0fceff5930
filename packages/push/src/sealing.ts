import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Environment variable with the credentials key: 32 bytes, base64 or hex. */
export const CREDENTIALS_KEY_VARIABLE = 'PUSH_CREDENTIALS_KEY';
/** Key file generated in the data folder when the variable is not set. */
export const CREDENTIALS_KEY_FILE = 'push-credentials.key';

const VERSION = 'v1';

export class SealingError extends Error {}

function decodeKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new SealingError(`${where} must hold 32 bytes (base64 or 64 hex digits)`);
  return key;
}

/**
 * The AES-256 key sealing push credentials at rest: `PUSH_CREDENTIALS_KEY` when set, else the key
 * file in the data folder, generated (mode 0600) on first use. Every process that reads or writes
 * credentials (API, sip-core) needs the same key.
 */
export function loadCredentialsKey(options: { env?: NodeJS.ProcessEnv; dataDir: string }): Buffer {
  const fromEnv = (options.env ?? process.env)[CREDENTIALS_KEY_VARIABLE];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return decodeKey(fromEnv, CREDENTIALS_KEY_VARIABLE);
  const file = join(options.dataDir, CREDENTIALS_KEY_FILE);
  if (existsSync(file)) return decodeKey(readFileSync(file, 'utf8'), file);
  mkdirSync(options.dataDir, { recursive: true });
  const key = randomBytes(32);
  // `wx`: two processes starting together must not both write a key; the loser reads the winner's.
  try {
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return decodeKey(readFileSync(file, 'utf8'), file);
    throw error;
  }
  chmodSync(file, 0o600);
  return key;
}

/**
 * AES-256-GCM with a fresh 96-bit IV; `context` (domain and provider) is authenticated data, so a
 * sealed secret copied to another row does not open there.
 */
export function seal(key: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

export function unseal(key: Buffer, sealed: string, context: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined)
    throw new SealingError('not a sealed secret');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new SealingError('sealed secret does not open with this key (wrong PUSH_CREDENTIALS_KEY?)');
  }
}

/** The authenticated context of one credentials row. */
export function sealingContext(domainId: string, provider: string): string {
  return `push-credentials:${domainId}:${provider}`;
}

/** The authenticated context of a customer's recording webhook secret: it opens only for that customer. */
export function recordingWebhookSecretContext(customerId: string): string {
  return `recording-webhook:${customerId}`;
}

/**
 * The authenticated context of a peer gateway's sealed secret: `auth` (answering the gateway's
 * challenges) or `register` (the trunk registration), so a secret opens only for its purpose.
 */
export function gatewaySecretContext(purpose: 'auth' | 'register'): string {
  return `peer-gateway:${purpose}`;
}
