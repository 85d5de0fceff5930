import type { PrismaClient } from '@switchboard/db';
import { LruMap } from '@switchboard/sip';
import type { Logger } from 'pino';
import type { AccessConfig } from '../config.ts';
import { AddressSet, canonicalAddress } from '../net/address.ts';

interface Ban {
  id: string;
  address: string;
  /** Epoch ms; null: permanent. */
  expiresAt: number | null;
}

interface FailureCount {
  count: number;
  windowStart: number;
}

/** What one failed authentication led to. */
export interface FailureOutcome {
  addressBanned: boolean;
  /**
   * Milliseconds the refusal of this failure should wait: 0 until the username has more failures than
   * `maxFailuresPerUser` in the window, then 1 s doubling up to `userDelayMax`.
   */
  delayMs: number;
}

const MAX_COUNTERS = 100_000;
/** Milliseconds between writes of the ban hit counters. */
export const DEFAULT_HIT_FLUSH_MS = 5_000;

interface HitCount {
  count: number;
  /** Epoch ms of the latest hit. */
  last: number;
}
export const AUTO_BAN_CREATOR = 'auto:auth-failures';

/**
 * Counts failed authentications per source address and per username. An address over its limit is
 * banned: bans live in the `ip_bans` table (visible and removable by operators, shared by every node
 * through the change feed) and are mirrored here for the per-request check. A username over its limit is
 * never locked, since that would let anyone keep the real phones out with ten wrong guesses: its further
 * failures are only answered more and more slowly (local to this node, forgotten on restart), while
 * correct credentials from an address that is not banned are accepted as always.
 */
export class BanService {
  private bans = new Map<string, Ban>();
  private banned = new AddressSet();
  private trusted: AddressSet;
  /** Bounded: a flood of failures from ever new addresses or names drops the oldest counters. */
  private readonly addressFailures = new LruMap<string, FailureCount>(MAX_COUNTERS);
  private readonly userFailures = new LruMap<string, FailureCount>(MAX_COUNTERS);
  /** Requests refused per ban since the counters were last written. */
  private hits = new Map<string, HitCount>();
  private hitTimer: NodeJS.Timeout | undefined;
  private hitFlush: Promise<void> | undefined;

  /** Counts every failure recorded (metrics), trusted sources included. */
  private failures: { inc(): void } | undefined;

  countFailuresIn(counter: { inc(): void }): void {
    this.failures = counter;
  }

  constructor(
    private readonly prisma: PrismaClient,
    private readonly config: AccessConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    /** How long hits are counted in memory before they are added to `ip_bans.hit_count`. */
    private readonly hitFlushMs = DEFAULT_HIT_FLUSH_MS,
  ) {
    this.trusted = new AddressSet(config.trustedSources);
  }

  /** Loads every ban that is still in force. */
  async load(): Promise<void> {
    const rows = await this.prisma.ipBan.findMany({
      where: { OR: [{ expiresAt: null }, { expiresAt: { gt: new Date(this.now()) } }] },
      select: { id: true, address: true, expiresAt: true },
    });
    this.bans = new Map(rows.map((row) => [row.id, toBan(row)]));
    this.rebuild();
  }

  /** Change feed: one `ip_bans` row was inserted, updated or deleted (id null: reload all). */
  async onBanChanged(id: string | null): Promise<void> {
    if (id === null) return this.load();
    const row = await this.prisma.ipBan.findUnique({
      where: { id },
      select: { id: true, address: true, expiresAt: true },
    });
    if (row) this.bans.set(id, toBan(row));
    else this.bans.delete(id);
    this.rebuild();
  }

  /** Replaces the trusted sources (an operator's setting changed). */
  setTrusted(entries: readonly string[]): void {
    this.trusted = new AddressSet(entries);
  }

  isTrusted(address: string): boolean {
    return this.trusted.has(address);
  }

  isBanned(address: string): boolean {
    return this.banOf(address) !== undefined;
  }

  /** The ban in force for `address` (its id), if any. */
  banOf(address: string): string | undefined {
    if (!this.banned.has(address)) return undefined;
    // The set is rebuilt on change only; an expired ban stops applying as soon as it expires.
    const now = this.now();
    const a = canonicalAddress(address);
    for (const [id, ban] of this.bans) {
      if (ban.expiresAt !== null && ban.expiresAt <= now) continue;
      if (ban.address === a || new AddressSet([ban.address]).has(a)) return id;
    }
    return undefined;
  }

  /**
   * Counts a request refused by a ban. Counted in memory and added to `hit_count` / `last_hit_at`
   * every `hitFlushMs` in one statement for all bans, so a flood from a banned source costs no
   * database write per packet. (The change feed ignores these columns.)
   */
  recordHit(banId: string): void {
    const hit = this.hits.get(banId);
    if (hit) {
      hit.count += 1;
      hit.last = this.now();
    } else this.hits.set(banId, { count: 1, last: this.now() });
    if (!this.hitTimer) {
      this.hitTimer = setTimeout(() => {
        this.hitTimer = undefined;
        void this.flushHits();
      }, this.hitFlushMs);
      this.hitTimer.unref();
    }
  }

  /** Adds the hits counted so far to the table now. */
  async flushHits(): Promise<void> {
    if (this.hitFlush) await this.hitFlush;
    if (this.hits.size === 0) return;
    const hits = this.hits;
    this.hits = new Map();
    const ids = [...hits.keys()];
    const counts = ids.map((id) => hits.get(id)!.count);
    const lasts = ids.map((id) => new Date(hits.get(id)!.last));
    this.hitFlush = this.prisma.$executeRaw`
      UPDATE ip_bans SET hit_count = ip_bans.hit_count + h.count,
        last_hit_at = GREATEST(ip_bans.last_hit_at, h.last)
      FROM unnest(${ids}::uuid[], ${counts}::int[], ${lasts}::timestamptz[]) AS h(id, count, last)
      WHERE ip_bans.id = h.id`
      .then(() => undefined)
      .catch((error: unknown) => {
        // Statistics only: a lost batch of counts is logged, not retried.
        this.log.warn({ err: error, bans: ids.length }, 'could not write ban hit counters');
      })
      .finally(() => {
        this.hitFlush = undefined;
      });
    await this.hitFlush;
  }

  /** Writes the hit counters still in memory (clean shutdown). */
  async close(): Promise<void> {
    if (this.hitTimer) clearTimeout(this.hitTimer);
    this.hitTimer = undefined;
    await this.flushHits();
  }

  /** Forgets the failures of a source that just authenticated (a typo must not add up over days). */
  recordSuccess(address: string, user: string): void {
    this.addressFailures.delete(canonicalAddress(address));
    this.userFailures.delete(user);
  }

  /** Counts one failed authentication; bans the address once over its limit, slows the user's failures. */
  async recordFailure(address: string, user: string | undefined): Promise<FailureOutcome> {
    this.failures?.inc();
    const outcome: FailureOutcome = { addressBanned: false, delayMs: 0 };
    const a = canonicalAddress(address);
    if (this.isTrusted(a)) return outcome;
    if (this.count(this.addressFailures, a) >= this.config.maxFailuresPerAddress) {
      this.addressFailures.delete(a);
      await this.ban(a, `${this.config.maxFailuresPerAddress} failed authentications`);
      outcome.addressBanned = true;
    }
    if (user !== undefined) {
      const over = this.count(this.userFailures, user) - this.config.maxFailuresPerUser;
      if (over > 0) {
        outcome.delayMs = Math.min(1000 * 2 ** Math.min(over - 1, 30), this.config.userDelayMax * 1000);
        if (over === 1)
          this.log.warn(
            { user, failures: this.config.maxFailuresPerUser + 1 },
            'user over its failure limit: failures now answered slowly',
          );
      }
    }
    return outcome;
  }

  /** Bans an address for `banDuration` seconds, writing the ban to the database first. */
  async ban(address: string, reason: string): Promise<void> {
    const expiresAt = new Date(this.now() + this.config.banDuration * 1000);
    const row = await this.prisma.ipBan.upsert({
      where: { address },
      create: { address, reason, expiresAt, createdBy: AUTO_BAN_CREATOR },
      update: { reason, expiresAt },
      select: { id: true, address: true, expiresAt: true },
    });
    this.bans.set(row.id, toBan(row));
    this.rebuild();
    this.log.warn({ address, reason, expiresAt }, 'source address banned');
  }

  private count(table: LruMap<string, FailureCount>, key: string): number {
    const now = this.now();
    const windowMs = this.config.failureWindow * 1000;
    let entry = table.get(key);
    if (!entry || now - entry.windowStart > windowMs) {
      entry = { count: 0, windowStart: now };
      table.set(key, entry);
    }
    entry.count += 1;
    return entry.count;
  }

  private rebuild(): void {
    this.banned = new AddressSet([...this.bans.values()].map((ban) => ban.address));
  }
}

function toBan(row: { id: string; address: string; expiresAt: Date | null }): Ban {
  return { id: row.id, address: canonicalAddress(row.address), expiresAt: row.expiresAt?.getTime() ?? null };
}
