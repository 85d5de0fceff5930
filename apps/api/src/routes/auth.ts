import { setTimeout as sleep } from 'node:timers/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { generateSecret, hashPassword, verifyPassword } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { accountUsable, principalOf, USER_ACCOUNT_INCLUDE } from '../auth/authenticate.ts';
import { clearSessionCookies, setSessionCookies } from '../auth/cookies.ts';
import { revokeCredentials } from '../auth/credentials.ts';
import { LoginGuard } from '../auth/login-guard.ts';
import { assertPasswordAllowed, loginIdentities } from '../auth/password-policy.ts';
import { issueCredential } from '../auth/tokens.ts';
import { ApiError, badRequest, unauthorized } from '../errors.ts';
import { NoContent, Nullable, Timestamp, Uuid } from '../schemas.ts';
import type { RouteOptions } from './options.ts';

/**
 * Password login, logout, who am I, changing one's own password, and the operator's view of the login
 * brute-force protection. Login tokens are random 256-bit values handed out once; the database keeps their
 * SHA-256 only. The same login answers the token (for scripts) and sets the web app's HttpOnly cookie.
 */

export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: 1024 });
export const NewPassword = Type.String({
  minLength: 10,
  maxLength: 1024,
  description: 'At least 10 characters; not a commonly used password, not the e-mail address',
});

export const Me = Type.Object({
  userId: Uuid,
  email: Type.String(),
  role: Type.Enum(['operator', 'reseller', 'customer']),
  resellerId: Nullable(Uuid),
  customerId: Nullable(Uuid),
  via: Type.Enum(['session', 'apiKey']),
  twoFactor: Type.Object({
    enabled: Type.Boolean({ description: 'Signs in with a TOTP code as well' }),
    mustEnrol: Type.Boolean({ description: 'Required for the role but not set up: only enrolment is open' }),
  }),
});

const LoginLimitEntry = Type.Object({
  key: Type.String({ description: 'Client address or login e-mail' }),
  attempts: Type.Integer(),
  until: Timestamp,
});

/**
 * A fixed scrypt hash of a random password, verified when the e-mail is unknown so that unknown and known
 * accounts take the same time to refuse.
 */
let decoyHash: Promise<string> | undefined;
const decoy = () => {
  decoyHash ??= hashPassword(generateSecret(32));
  return decoyHash;
};

export async function authRoutes(
  fastify: FastifyInstance,
  { prisma, now, limits, sessionTtlMs, cookieSecure, twoFactor }: RouteOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const guard = new LoginGuard(limits, now);
  const twoFactorOf = async (role: 'operator' | 'reseller' | 'customer', enabled: boolean) => ({
    enabled,
    mustEnrol: !enabled && (await twoFactor.requiredFor(role)),
  });

  /**
   * Checks a password of `email` under the brute-force guard: the attempt is counted before the (slow)
   * check, and a slowed-down account waits here. Failures are audited.
   */
  async function checkPassword(ip: string, email: string, password: string) {
    const delayMs = guard.begin(ip, email);
    if (delayMs > 0) await sleep(delayMs);
    const user = await prisma.user.findUnique({ where: { email }, include: USER_ACCOUNT_INCLUDE });
    const ok = await verifyPassword(password, user?.passwordHash ?? (await decoy()));
    if (user && ok && accountUsable(user)) {
      guard.succeeded(ip, email);
      return user;
    }
    await prisma.auditEntry.create({
      data: {
        actor: email,
        action: 'login-failed',
        entity: 'auth',
        sourceIp: ip,
        actorUserId: user?.id ?? null,
      },
    });
    return undefined;
  }

  app.post(
    '/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'login',
        summary: 'Exchange e-mail and password for a bearer token',
        description:
          'Also sets the web app session: an HttpOnly `sb_session` cookie and a readable `sb_csrf` cookie whose ' +
          'value cookie-authenticated POST/PATCH/PUT/DELETE requests send back in the `X-CSRF-Token` header. ' +
          'Too many failures from one address answer 429; an account with many failures answers more slowly. ' +
          'A login with two-factor sign-in also needs `code` (TOTP or a recovery code): without it the answer ' +
          'is 401 naming the field `/body/code`.',
        security: [],
        body: Type.Object(
          { email: Email, password: Password, code: Type.Optional(Type.String({ maxLength: 32 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ token: Type.String(), expiresAt: Timestamp, user: Me }) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const email = body.email.toLowerCase();
      const user = await checkPassword(request.ip, email, body.password);
      if (user === undefined) throw unauthorized('Wrong e-mail or password');
      await twoFactor.checkAtLogin(user, body.code);
      const credential = issueCredential('session');
      const expiresAt = new Date(now() + sessionTtlMs);
      const session = await prisma.session.create({
        data: {
          userId: user.id,
          tokenHash: credential.hash,
          expiresAt,
          sourceIp: request.ip,
          userAgent: request.headers['user-agent']?.slice(0, 255) ?? null,
        },
      });
      await prisma.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date(now()) } });
      await writeAudit(
        prisma,
        request,
        { action: 'login', entity: 'auth', entityId: session.id },
        { userId: user.id, apiKeyId: null, label: user.email },
      );
      setSessionCookies(request, reply, credential.secret, expiresAt, cookieSecure);
      return {
        token: credential.secret,
        expiresAt,
        user: {
          userId: user.id,
          email: user.email,
          role: user.role,
          resellerId: user.role === 'customer' ? (user.customer?.resellerId ?? null) : user.resellerId,
          customerId: user.customerId,
          via: 'session' as const,
          twoFactor: await twoFactorOf(user.role, user.totpEnabledAt !== null),
        },
      };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { twoFactorEnrolment: true },
      schema: {
        tags: ['auth'],
        operationId: 'logout',
        summary: 'Revoke the login token of this request and clear the session cookies',
        response: { 204: NoContent('Revoked') },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.sessionId === null) {
        throw badRequest('This request used an API key; revoke keys with DELETE /api/v1/api-keys/{id}');
      }
      await prisma.session.update({
        where: { id: principal.sessionId },
        data: { revokedAt: new Date(now()) },
      });
      await writeAudit(prisma, request, { action: 'logout', entity: 'auth', entityId: principal.sessionId });
      clearSessionCookies(request, reply, cookieSecure);
      return reply.code(204).send();
    },
  );

  app.get(
    '/auth/me',
    {
      config: { twoFactorEnrolment: true },
      schema: {
        tags: ['auth'],
        operationId: 'whoAmI',
        summary: 'The user behind the bearer token or session cookie',
        response: { 200: Me },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return {
        ...p,
        via: p.sessionId === null ? ('apiKey' as const) : ('session' as const),
        twoFactor: await twoFactorOf(p.role, p.totpEnabled),
      };
    },
  );

  app.post(
    '/auth/password',
    {
      schema: {
        tags: ['auth'],
        operationId: 'changeOwnPassword',
        summary: 'Change your own password',
        description:
          'Needs the current password (checked under the login brute-force limits). Revokes all your login ' +
          'sessions, this one included, and all your API keys: sign in again with the new password.',
        body: Type.Object(
          { currentPassword: Password, newPassword: NewPassword },
          { additionalProperties: false },
        ),
        response: { 204: NoContent('Changed; sessions and API keys revoked') },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const body = request.body;
      const user = await checkPassword(request.ip, p.email, body.currentPassword);
      if (user === undefined) {
        throw new ApiError(403, 'The current password is wrong', [
          { field: '/body/currentPassword', message: 'wrong password' },
        ]);
      }
      assertPasswordAllowed(body.newPassword, {
        field: '/body/newPassword',
        identities: loginIdentities(p.email),
      });
      const passwordHash = await hashPassword(body.newPassword);
      await prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: p.userId }, data: { passwordHash } });
        await revokeCredentials(tx, p.userId, new Date(now()));
        await writeAudit(tx, request, { action: 'change-password', entity: 'users', entityId: p.userId });
      });
      clearSessionCookies(request, reply, cookieSecure);
      return reply.code(204).send();
    },
  );

  // --- the operator's view of the brute-force protection ---------------------------------------------------
  app.get(
    '/auth/login-limits',
    {
      config: { roles: ['operator'] },
      schema: {
        tags: ['auth'],
        operationId: 'listLoginLimits',
        summary: 'Client addresses out of login attempts and accounts whose logins are slowed down',
        response: {
          200: Type.Object({ addresses: Type.Array(LoginLimitEntry), accounts: Type.Array(LoginLimitEntry) }),
        },
      },
    },
    async () => guard.blocked(),
  );

  app.delete(
    '/auth/login-limits',
    {
      config: { roles: ['operator'] },
      schema: {
        tags: ['auth'],
        operationId: 'liftLoginLimit',
        summary: 'Lift the block of a client address and/or the slow-down of an account',
        querystring: Type.Object(
          {
            address: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            email: Type.Optional(Email),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 204: NoContent('Lifted') },
      },
    },
    async (request, reply) => {
      const { address, email } = request.query;
      guard.lift({
        ...(address === undefined ? {} : { address }),
        ...(email === undefined ? {} : { account: email.toLowerCase() }),
      });
      await writeAudit(prisma, request, {
        action: 'lift-login-limit',
        entity: 'auth',
        after: { address: address ?? null, email: email ?? null },
      });
      return reply.code(204).send();
    },
  );
}
