import { createHash, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/** The digest credentials a registrar stores instead of the password (RFC 7616 section 3.4.2). */
export interface SipHa1 {
  /** Hex MD5(username:realm:password). */
  ha1Md5: string;
  /** Hex SHA-256(username:realm:password). */
  ha1Sha256: string;
}

/**
 * H(A1) for the `MD5` and `SHA-256` algorithms: H(username ":" realm ":" password).
 * The `-sess` variants are derived from these at authentication time, so they need nothing stored.
 */
export function sipHa1(username: string, realm: string, password: string): SipHa1 {
  const a1 = `${username}:${realm}:${password}`;
  return {
    ha1Md5: createHash('md5').update(a1, 'utf8').digest('hex'),
    ha1Sha256: createHash('sha256').update(a1, 'utf8').digest('hex'),
  };
}

// Web passwords: scrypt (RFC 7914) with a per-password salt, stored self-describing as
// `scrypt$N$r$p$salt$hash` (salt and hash base64) so that the cost can grow later without
// breaking existing hashes: verification always uses the parameters stored with the hash.
const SCRYPT_N = 2 ** 15;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Upper bounds on accepted parameters, so a forged hash cannot make verification eat the machine. */
const MAX_SCRYPT_N = 2 ** 20;
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

function scryptAsync(
  password: string,
  salt: Buffer,
  keylen: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keylen, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

function scryptMemory(N: number, r: number): number {
  // scrypt needs 128 * N * r bytes; Node refuses above `maxmem`, so allow it with headroom.
  return 128 * N * r + 1024 * 1024;
}

/** Hashes a web login password for storage in `users.password_hash`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(password, salt, KEY_BYTES, {
    N: SCRYPT_N,
    r: SCRYPT_R,
    p: SCRYPT_P,
    maxmem: scryptMemory(SCRYPT_N, SCRYPT_R),
  });
  return `scrypt$${SCRYPT_N}$${SCRYPT_R}$${SCRYPT_P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, nText, rText, pText, saltText, hashText] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const N = Number(nText);
  const r = Number(rText);
  const p = Number(pText);
  const validCost =
    Number.isInteger(N) &&
    N > 1 &&
    N <= MAX_SCRYPT_N &&
    (N & (N - 1)) === 0 &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= 32 &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= 16 &&
    128 * N * r <= MAX_SCRYPT_MEMORY;
  if (!validCost) return false;
  const salt = Buffer.from(saltText, 'base64');
  const expected = Buffer.from(hashText, 'base64');
  if (salt.length === 0 || expected.length < 16 || expected.length > 128) return false;
  const actual = await scryptAsync(password, salt, expected.length, { N, r, p, maxmem: scryptMemory(N, r) });
  return timingSafeEqual(actual, expected);
}

const SECRET_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/**
 * A random secret of `length` characters from an alphabet without look-alikes (no 0/O, 1/l/I),
 * for SIP passwords, API keys and tokens. Uniform: bytes that would bias the choice are rejected.
 */
export function generateSecret(length = 24): string {
  if (!Number.isInteger(length) || length < 1 || length > 1024) {
    throw new RangeError(`secret length must be an integer between 1 and 1024, got ${length}`);
  }
  const limit = 256 - (256 % SECRET_ALPHABET.length);
  let secret = '';
  while (secret.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue;
      secret += SECRET_ALPHABET[byte % SECRET_ALPHABET.length];
      if (secret.length === length) break;
    }
  }
  return secret;
}

/** Hex SHA-256, used for API keys and session tokens (random and long, so no slow hash needed). */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
