import { randomBytes } from 'node:crypto';
import type { Tx } from '../audit.ts';
import { hashCredential } from './tokens.ts';

export type OneTimePurpose = 'password_reset' | 'email_verification' | 'provisioning' | 'totp_recovery';

/** How long each kind of token is good for; recovery codes last until used or replaced. */
export const TOKEN_LIFETIME_MS: Record<Exclude<OneTimePurpose, 'totp_recovery'>, number> = {
  password_reset: 30 * 60_000,
  email_verification: 48 * 60 * 60_000,
  provisioning: 15 * 60_000,
};

export interface IssuedToken {
  secret: string;
  expiresAt: Date | null;
}

/**
 * Issues a random 256-bit token for one purpose; the database keeps its SHA-256 only (the token is long and
 * random, so a fast hash is enough, as for login tokens).
 */
export async function issueOneTimeToken(
  tx: Tx,
  purpose: Exclude<OneTimePurpose, 'totp_recovery'>,
  owner: { userId?: string; subscriberId?: string },
  now: number,
): Promise<IssuedToken> {
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now + TOKEN_LIFETIME_MS[purpose]);
  await tx.oneTimeToken.create({
    data: {
      purpose,
      tokenHash: hashCredential(secret),
      userId: owner.userId ?? null,
      subscriberId: owner.subscriberId ?? null,
      expiresAt,
    },
  });
  return { secret, expiresAt };
}

/**
 * Uses a token: one conditional update marks it used only if it is unused and unexpired, so two requests
 * racing with the same token cannot both succeed. Returns the token's owner, or undefined for a token that
 * is unknown, of another purpose, used or expired (all answered alike by the callers).
 */
export async function consumeOneTimeToken(
  tx: Tx,
  purpose: OneTimePurpose,
  secret: string,
  now: number,
  owner?: { userId: string },
): Promise<{ userId: string | null; subscriberId: string | null } | undefined> {
  const tokenHash = hashCredential(secret.trim());
  const at = new Date(now);
  const used = await tx.oneTimeToken.updateMany({
    where: {
      tokenHash,
      purpose,
      usedAt: null,
      OR: [{ expiresAt: null }, { expiresAt: { gt: at } }],
      ...(owner ? { userId: owner.userId } : {}),
    },
    data: { usedAt: at },
  });
  if (used.count !== 1) return undefined;
  const row = await tx.oneTimeToken.findUnique({ where: { tokenHash } });
  return row ? { userId: row.userId, subscriberId: row.subscriberId } : undefined;
}
