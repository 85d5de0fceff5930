import { importPKCS8, SignJWT } from 'jose';

/**
 * The APNs provider authentication token (token-based connection trust): an ES256 JWT with the key
 * id in the header and the team id and issue time in the claims, signed with the team's .p8 key.
 */
export async function apnsProviderToken(
  key: { teamId: string; keyId: string; privateKey: string },
  nowMs: number,
): Promise<string> {
  const signingKey = await importPKCS8(key.privateKey, 'ES256');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.keyId })
    .setIssuer(key.teamId)
    .setIssuedAt(Math.floor(nowMs / 1000))
    .sign(signingKey);
}

/** OAuth 2.0 scope of the FCM HTTP v1 API. */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/**
 * The assertion of the JWT bearer grant (RFC 7523) a service account exchanges for an access token:
 * RS256, issued by the account's e-mail, for the token endpoint, valid one hour.
 */
export async function serviceAccountAssertion(
  account: { clientEmail: string; privateKey: string; privateKeyId?: string | undefined },
  tokenUrl: string,
  nowMs: number,
): Promise<string> {
  const signingKey = await importPKCS8(account.privateKey, 'RS256');
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ scope: FCM_SCOPE })
    .setProtectedHeader(
      account.privateKeyId
        ? { alg: 'RS256', typ: 'JWT', kid: account.privateKeyId }
        : { alg: 'RS256', typ: 'JWT' },
    )
    .setIssuer(account.clientEmail)
    .setSubject(account.clientEmail)
    .setAudience(tokenUrl)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(signingKey);
}
