import type { PrismaClient } from '@switchboard/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { forbidden, unauthorized } from '../errors.ts';
import type { Principal, Role } from '../types.ts';
import { CSRF_COOKIE, CSRF_HEADER, csrfMatches, SAFE_METHODS, SESSION_COOKIE } from './cookies.ts';
import { bearerFrom, credentialKind, hashCredential } from './tokens.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No credential needed (login, sign-up, health). */
    public?: boolean;
    /** Roles allowed on this route; absent means every authenticated role. */
    roles?: readonly Role[];
    /** Open to a user who must enrol a second factor before anything else (who am I, logout, enrolment). */
    twoFactorEnrolment?: boolean;
  }
  interface FastifyRequest {
    /** Set for every non-public route before the handler runs. */
    principal: Principal | null;
  }
}

/** What a credential check needs of its user: the tenant ids and whether the account may act at all. */
export const USER_ACCOUNT_INCLUDE = {
  customer: { select: { resellerId: true, status: true } },
  reseller: { select: { status: true } },
} as const;

/**
 * A user may act while it is enabled and its contract is not terminated. A locked contract keeps its logins
 * (the customer can still look at its data); SIP service is what locking refuses.
 */
export function accountUsable(user: {
  enabled: boolean;
  customer: { status: string } | null;
  reseller: { status: string } | null;
}): boolean {
  return user.enabled && user.customer?.status !== 'terminated' && user.reseller?.status !== 'terminated';
}

/** Don't write `lastSeenAt` / `lastUsedAt` on every request: once a minute per credential is plenty. */
const TOUCH_INTERVAL_MS = 60_000;

export interface AuthenticateOptions {
  prisma: PrismaClient;
  now: () => number;
  /** Whether the operator requires a second factor of a role (the `web.requireTwoFactor` setting). */
  twoFactorRequired: (role: Role) => Promise<boolean>;
}

/**
 * Resolves a login token or API key to a principal. A credential that is unknown, expired,
 * revoked or belongs to a disabled user is answered the same way (401) so nothing about it leaks.
 */
export async function resolvePrincipal(
  prisma: PrismaClient,
  secret: string,
  now: number,
): Promise<Principal | undefined> {
  const kind = credentialKind(secret);
  if (kind === undefined) return undefined;
  const hash = hashCredential(secret);

  if (kind === 'session') {
    const session = await prisma.session.findUnique({
      where: { tokenHash: hash },
      include: { user: { include: USER_ACCOUNT_INCLUDE } },
    });
    if (!session || session.revokedAt !== null || session.expiresAt.getTime() <= now) return undefined;
    if (!accountUsable(session.user)) return undefined;
    if (session.lastSeenAt === null || now - session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
      await prisma.session.update({ where: { id: session.id }, data: { lastSeenAt: new Date(now) } });
    }
    const u = session.user;
    return {
      userId: u.id,
      email: u.email,
      role: u.role,
      resellerId: u.role === 'customer' ? (u.customer?.resellerId ?? null) : u.resellerId,
      customerId: u.customerId,
      sessionId: session.id,
      apiKeyId: null,
      totpEnabled: u.totpEnabledAt !== null,
    };
  }

  const key = await prisma.apiKey.findUnique({
    where: { keyHash: hash },
    include: { user: { include: USER_ACCOUNT_INCLUDE } },
  });
  if (!key || key.revokedAt !== null) return undefined;
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now) return undefined;
  if (!accountUsable(key.user)) return undefined;
  if (key.lastUsedAt === null || now - key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
    await prisma.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: new Date(now) } });
  }
  const u = key.user;
  return {
    userId: u.id,
    email: u.email,
    role: u.role,
    resellerId: u.role === 'customer' ? (u.customer?.resellerId ?? null) : u.resellerId,
    customerId: u.customerId,
    sessionId: null,
    apiKeyId: key.id,
    totpEnabled: u.totpEnabledAt !== null,
  };
}

/** The principal of a request whose route is not public; the hook below guarantees it is set. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw unauthorized();
  return request.principal;
}

/**
 * The credential of a request: the `Authorization: Bearer` header when present (scripts, API clients, API
 * keys), else the web app's session cookie, which only ever holds a login token.
 */
function credentialOf(request: FastifyRequest): { secret: string; viaCookie: boolean } | undefined {
  if (request.headers.authorization !== undefined) {
    const secret = bearerFrom(request.headers.authorization);
    return secret === undefined ? undefined : { secret, viaCookie: false };
  }
  const cookie = request.cookies[SESSION_COOKIE];
  if (cookie === undefined || credentialKind(cookie) !== 'session') return undefined;
  return { secret: cookie, viaCookie: true };
}

async function authenticate(app: FastifyInstance, opts: AuthenticateOptions): Promise<void> {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.public === true || request.routeOptions.url === undefined) return;
    const credential = credentialOf(request);
    if (credential === undefined) throw unauthorized();
    const principal = await resolvePrincipal(opts.prisma, credential.secret, opts.now());
    if (principal === undefined) throw unauthorized('The token or API key is invalid, expired or revoked');
    // A browser sends the cookie on its own, also on requests another site makes it send: a state-changing
    // request authenticated by the cookie must prove it comes from the app, which can read the CSRF cookie.
    if (
      credential.viaCookie &&
      !SAFE_METHODS.has(request.method) &&
      !csrfMatches(request, credential.secret)
    ) {
      throw forbidden(
        `Missing or wrong CSRF token: send the ${CSRF_HEADER} header with the ${CSRF_COOKIE} cookie's value`,
      );
    }
    request.principal = principal;
    if (config.roles !== undefined && !config.roles.includes(principal.role)) throw forbidden();
    if (
      !principal.totpEnabled &&
      config.twoFactorEnrolment !== true &&
      (await opts.twoFactorRequired(principal.role))
    ) {
      throw forbidden('Two-factor sign-in is required for your role: enrol an authenticator app first');
    }
  });
}

export const authenticatePlugin = fp(authenticate, { name: 'switchboard-authenticate' });
