import { LruMap } from '../collections/lru-map.ts';

/**
 * The last nonce-count accepted per nonce (RFC 7616 §3.4: "the nc value ... lets the server detect
 * request replays"): a request whose nc is not higher than the last one seen with its nonce is a replay.
 * Servers that share a nonce secret (several workers or nodes) should share one record too, or a replay
 * sent to another of them is accepted there.
 */
export interface NonceCounts {
  /** True, and `nc` remembered, when `nc` is higher than every count accepted with `nonce` so far. */
  accept(nonce: string, nc: number): boolean | Promise<boolean>;
}

/** The counts of one process, the most recently used nonces kept (bounded). */
export class MemoryNonceCounts implements NonceCounts {
  private readonly last: LruMap<string, number>;

  constructor(capacity = 10_000) {
    this.last = new LruMap(capacity);
  }

  accept(nonce: string, nc: number): boolean {
    const last = this.last.get(nonce);
    if (last !== undefined && nc <= last) return false;
    // A copy: the nonce as read is a slice of the request text and would keep all of it (some 800
    // bytes of a REGISTER) alive for as long as the nonce is remembered.
    this.last.set(Buffer.from(nonce, 'utf8').toString('utf8'), nc);
    return true;
  }
}
