import { tooManyRequests } from '../errors.ts';
import { WindowLimiter } from '../limiter.ts';
import type { ApiLimits } from '../types.ts';

/** The first slowed attempt waits this long; each further one twice as long, up to `loginMaxDelayMs`. */
const FIRST_DELAY_MS = 1000;

export interface LoginLimitEntry {
  /** A client address or a lowercase login e-mail. */
  key: string;
  attempts: number;
  until: string;
}

/**
 * Brute-force protection of password logins. It locks out the guessing source, never the user:
 *
 * - per client address, every attempt is counted before the password is checked (one synchronous step, so
 *   parallel requests cannot slip past the check) and a good login gives its attempt back; an address that
 *   used its budget is answered 429 until its window ends;
 * - per account, attempts beyond the threshold are slowed down, each waiting twice as long as the one before
 *   (capped) before its password is checked. The right password from an address within its budget still
 *   logs in, only later; the wait comes before the check so the time to answer says nothing about the
 *   password. A good login clears the account's count.
 */
export class LoginGuard {
  private readonly perAddress: WindowLimiter;
  private readonly perAccount: WindowLimiter;

  constructor(
    private readonly limits: ApiLimits,
    now: () => number,
  ) {
    this.perAddress = new WindowLimiter(
      { max: limits.loginFailuresPerIp, windowMs: limits.loginWindowMs },
      now,
    );
    this.perAccount = new WindowLimiter(
      { max: limits.loginFailuresPerAccount, windowMs: limits.loginWindowMs },
      now,
    );
  }

  /**
   * Counts an attempt from `address` on `account` before its password is checked. Throws 429 when the address
   * has no attempts left; otherwise returns how long to wait before checking the password.
   */
  begin(address: string, account: string): number {
    const wait = this.perAddress.take(address);
    if (wait > 0) throw tooManyRequests(wait, 'Too many failed logins from this address, try again later');
    return this.delayFor(this.perAccount.hit(account));
  }

  /** The password was right: the attempt does not count against the address, the account starts afresh. */
  succeeded(address: string, account: string): void {
    this.perAddress.refund(address);
    this.perAccount.reset(account);
  }

  /** Wait before checking the n-th attempt on one account in the current window. */
  delayFor(attempt: number): number {
    const over = attempt - this.limits.loginFailuresPerAccount;
    if (over <= 0 || this.limits.loginMaxDelayMs <= 0) return 0;
    // 2^20 s is far beyond any sensible cap; bounding the exponent keeps the number finite.
    return Math.min(FIRST_DELAY_MS * 2 ** Math.min(over - 1, 20), this.limits.loginMaxDelayMs);
  }

  /** Addresses out of attempts and accounts being slowed down, for the operator. */
  blocked(): { addresses: LoginLimitEntry[]; accounts: LoginLimitEntry[] } {
    const view = (limit: number) => (e: { key: string; count: number; resetAt: number }) =>
      e.count >= limit ? [{ key: e.key, attempts: e.count, until: new Date(e.resetAt).toISOString() }] : [];
    return {
      addresses: this.perAddress.entries().flatMap(view(this.limits.loginFailuresPerIp)),
      accounts: this.perAccount.entries().flatMap(view(this.limits.loginFailuresPerAccount)),
    };
  }

  /** Lifts the block of an address and/or the slow-down of an account (operator action). */
  lift(target: { address?: string; account?: string }): void {
    if (target.address !== undefined) this.perAddress.reset(target.address);
    if (target.account !== undefined) this.perAccount.reset(target.account);
  }
}
