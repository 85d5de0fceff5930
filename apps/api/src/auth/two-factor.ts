import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '@switchboard/db';
import { loadCredentialsKey, seal, unseal } from '@switchboard/push';
import type { Tx } from '../audit.ts';
import { ApiError, tooManyRequests } from '../errors.ts';
import { WindowLimiter } from '../limiter.ts';
import type { ApiLimits, Role } from '../types.ts';
import { consumeOneTimeToken } from './one-time-tokens.ts';
import { hashCredential } from './tokens.ts';
import { verifyTotp } from './totp.ts';

export const REQUIRE_TWO_FACTOR_SETTING = 'web.requireTwoFactor';
const RECOVERY_CODES = 10;
/** The stored setting is read again at most this often (it changes rarely; no change feed in the API). */
const POLICY_CACHE_MS = 5_000;

export interface TwoFactorUser {
  id: string;
  totpSecretSealed: string | null;
  totpEnabledAt: Date | null;
  totpLastStep: number | null;
}

/**
 * The second factor of web logins: TOTP codes (totp.ts) with recovery codes, and the operator's policy that
 * operators and resellers must use one. The TOTP secret must be read back to check codes, so it is sealed
 * (AES-256-GCM, bound to the user) with the platform's sealing key rather than hashed; recovery codes are
 * hashed. Wrong codes count per account like wrong passwords: past the budget the account waits.
 */
export class TwoFactor {
  private readonly failures: WindowLimiter;
  private key: Buffer | undefined;
  private policy: { value: boolean; readAt: number } | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly now: () => number,
    limits: ApiLimits,
    private readonly sealing: { credentialsKey?: Buffer; dataDir?: string },
  ) {
    this.failures = new WindowLimiter(
      { max: limits.loginFailuresPerAccount, windowMs: limits.loginWindowMs },
      now,
    );
  }

  private sealingKey(): Buffer {
    this.key ??=
      this.sealing.credentialsKey ??
      loadCredentialsKey({ dataDir: this.sealing.dataDir ?? process.env.DATA_DIR ?? './data' });
    return this.key;
  }

  sealSecret(userId: string, secret: string): string {
    return seal(this.sealingKey(), secret, `totp:${userId}`);
  }

  secretOf(user: TwoFactorUser): string | undefined {
    if (user.totpSecretSealed === null) return undefined;
    return unseal(this.sealingKey(), user.totpSecretSealed, `totp:${user.id}`);
  }

  /** Whether the operator requires a second factor of this role (operators and resellers only). */
  async requiredFor(role: Role): Promise<boolean> {
    if (role === 'customer') return false;
    const now = this.now();
    if (this.policy === undefined || now - this.policy.readAt > POLICY_CACHE_MS) {
      const row = await this.prisma.setting.findUnique({ where: { id: REQUIRE_TWO_FACTOR_SETTING } });
      this.policy = { value: row?.value === true, readAt: now };
    }
    return this.policy.value;
  }

  /** Forget the cached policy (after the setting changed through this process). */
  policyChanged(): void {
    this.policy = undefined;
  }

  /**
   * Accepts a TOTP code of the user's confirmed or pending secret, once: the step is recorded with a
   * conditional update, so the same code cannot pass twice, not even in parallel.
   */
  async acceptTotp(tx: Tx, user: TwoFactorUser, code: string): Promise<boolean> {
    const secret = this.secretOf(user);
    if (secret === undefined) return false;
    const step = verifyTotp(secret, code.replace(/\s/g, ''), this.now(), user.totpLastStep);
    if (step === undefined) return false;
    const updated = await tx.user.updateMany({
      where: { id: user.id, OR: [{ totpLastStep: null }, { totpLastStep: { lt: step } }] },
      data: { totpLastStep: step },
    });
    return updated.count === 1;
  }

  /**
   * The login's second step: nothing for a user without TOTP; otherwise a TOTP code or an unused recovery
   * code. A missing code answers 401 naming `/body/code`, which tells the client to ask for it.
   */
  async checkAtLogin(user: TwoFactorUser, code: string | undefined): Promise<void> {
    if (user.totpEnabledAt === null) return;
    if (code === undefined || code.trim() === '') {
      throw new ApiError(401, 'Enter the code of your authenticator app', [
        { field: '/body/code', message: 'two-factor code required' },
      ]);
    }
    const wait = this.failures.retryAfter(user.id);
    if (wait > 0) throw tooManyRequests(wait, 'Too many wrong codes, try again later');
    const ok =
      (await this.acceptTotp(this.prisma, user, code)) ||
      (await consumeOneTimeToken(this.prisma, 'totp_recovery', normaliseRecoveryCode(code), this.now(), {
        userId: user.id,
      })) !== undefined;
    if (!ok) {
      this.failures.hit(user.id);
      throw new ApiError(401, 'Wrong or already used code', [{ field: '/body/code', message: 'wrong code' }]);
    }
    this.failures.reset(user.id);
  }

  /** Replaces the user's recovery codes with new ones; returns them (shown once). */
  async newRecoveryCodes(tx: Tx, userId: string): Promise<string[]> {
    await tx.oneTimeToken.deleteMany({ where: { userId, purpose: 'totp_recovery' } });
    const codes = Array.from({ length: RECOVERY_CODES }, () => {
      const raw = randomBytes(8).toString('hex');
      return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12)}`;
    });
    await tx.oneTimeToken.createMany({
      data: codes.map((code) => ({
        purpose: 'totp_recovery' as const,
        userId,
        tokenHash: hashCredential(normaliseRecoveryCode(code)),
      })),
    });
    return codes;
  }
}

/** Recovery codes are typed by people: case, spaces and dashes do not matter. */
export function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^0-9a-f]/g, '');
}
