import type { User } from '@switchboard/db';
import type { Tx } from '../audit.ts';
import { forbidden } from '../errors.ts';
import type { Principal } from '../types.ts';
import { assertPasswordAllowed, loginIdentities } from './password-policy.ts';

/**
 * Ends every login session and API key of a user. Done when the password changes (whoever knew the old one
 * may have made keys with it) and when the user is disabled or enabled again: a key is revoked for good, so
 * re-enabling a user never brings back the keys it had.
 */
export async function revokeCredentials(tx: Tx, userId: string, at: Date): Promise<void> {
  await tx.session.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: at } });
  await tx.apiKey.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: at } });
}

/**
 * What a PATCH of a user record means for its credentials. Someone else's password (a reset by an operator,
 * reseller or customer admin) follows the password policy; one's own password changes only through
 * `POST /auth/password`, which asks for the current one. A new password or a change of `enabled` revokes
 * the user's sessions and keys.
 */
export async function checkUserCredentialChange(
  tx: Tx,
  principal: Principal,
  existing: Pick<User, 'id' | 'email' | 'enabled'>,
  body: { password?: string; enabled?: boolean },
): Promise<void> {
  const { password } = body;
  if (password !== undefined) {
    if (existing.id === principal.userId) {
      throw forbidden(
        'Change your own password with POST /api/v1/auth/password, which asks for the current one',
      );
    }
    assertPasswordAllowed(password, {
      field: '/body/password',
      identities: loginIdentities(existing.email),
    });
  }
  const enabledChanges = body.enabled !== undefined && body.enabled !== existing.enabled;
  if (password !== undefined || enabledChanges) await revokeCredentials(tx, existing.id, new Date());
}
