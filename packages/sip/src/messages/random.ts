import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for identifiers (tags, branches, Call-IDs, nonces), drawn from a pool that one
 * `randomFillSync` call refills. Every request needs one or more of them, and a synchronous
 * `randomBytes` call per identifier costs a trip into OpenSSL each time; the pool makes that one
 * trip per few hundred identifiers. Same CSPRNG, same quality.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** Copies `length` (at most 4096) fresh random bytes into `target` at `at`. */
export function randomInto(target: Buffer, at: number, length: number): void {
  if (length > POOL_SIZE) throw new RangeError(`at most ${POOL_SIZE} random bytes at once`);
  if (offset + length > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  pool.copy(target, at, offset, offset + length);
  // Never hand out the same bytes twice.
  pool.fill(0, offset, offset + length);
  offset += length;
}

/** `length` fresh random bytes as lowercase hex. */
export function randomHex(length: number): string {
  if (length > POOL_SIZE) throw new RangeError(`at most ${POOL_SIZE} random bytes at once`);
  if (offset + length > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const text = pool.toString('hex', offset, offset + length);
  pool.fill(0, offset, offset + length);
  offset += length;
  return text;
}
