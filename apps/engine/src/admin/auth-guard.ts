/**
 * Slows down and bans guessing of the admin secret. Each wrong secret costs the guesser a delay before the
 * answer (and its connection); an address with too many failures within a window is banned for a while:
 * its new connections are closed at once, before a byte is read. State is in memory: a restart lifts
 * every ban (docs/security.md, "Lifting a ban or a lock").
 */
import { LruMap } from '@switchboard/sip';

export interface AuthGuardOptions {
  /** How long the answer to a wrong secret waits (ms); the connection closes after it. */
  failureDelayMs: number;
  /** Wrong secrets from one address within `failureWindowMs` that ban it. */
  maxFailures: number;
  failureWindowMs: number;
  /** How long a ban lasts (ms). */
  banMs: number;
}

export const DEFAULT_AUTH_GUARD: AuthGuardOptions = {
  failureDelayMs: 1_000,
  maxFailures: 5,
  failureWindowMs: 60_000,
  banMs: 15 * 60_000,
};

/** Addresses followed at once; beyond it the oldest failure records are dropped (bans are kept). */
const MAX_TRACKED = 10_000;

export class AuthGuard {
  /** Failure times per address, oldest first, within the window; the address failing longest ago goes first. */
  private readonly failures = new LruMap<string, number[]>(MAX_TRACKED);
  private readonly bans = new Map<string, number>();

  constructor(
    readonly options: AuthGuardOptions = DEFAULT_AUTH_GUARD,
    private readonly now: () => number = Date.now,
  ) {}

  isBanned(address: string): boolean {
    const until = this.bans.get(address);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.bans.delete(address);
    return false;
  }

  /** Records a wrong secret; true when it got the address banned. */
  recordFailure(address: string): boolean {
    const now = this.now();
    const recent = (this.failures.get(address) ?? []).filter((t) => now - t < this.options.failureWindowMs);
    recent.push(now);
    if (recent.length >= this.options.maxFailures) {
      this.failures.delete(address);
      this.bans.set(address, now + this.options.banMs);
      return true;
    }
    this.failures.set(address, recent);
    return false;
  }
}
