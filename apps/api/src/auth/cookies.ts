import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web app's session: the login token in an HttpOnly cookie that page scripts cannot read, plus a CSRF
 * token in a readable cookie that the app echoes in a header on every state-changing request (signed
 * double-submit: the CSRF token is derived from the session token, so a cookie planted by someone else
 * cannot match it). Scripts and API clients keep sending `Authorization: Bearer`, which needs no CSRF token:
 * a browser never adds that header on its own.
 */
export const SESSION_COOKIE = 'sb_session';
export const CSRF_COOKIE = 'sb_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change nothing (RFC 9110 section 9.2.1) need no CSRF token. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export type CookieSecurity = boolean | 'auto';

export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`csrf\0${sessionToken}`, 'utf8').digest('base64url');
}

/** True when the request carries the CSRF token that belongs to its session token. */
export function csrfMatches(request: FastifyRequest, sessionToken: string): boolean {
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const given = Buffer.from(sent);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function secureFor(request: FastifyRequest, mode: CookieSecurity): boolean {
  return mode === 'auto' ? request.protocol === 'https' : mode;
}

/** Sets the session and CSRF cookies of a new login session; both end when the session does. */
export function setSessionCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  sessionToken: string,
  expiresAt: Date,
  mode: CookieSecurity,
): void {
  const common = { sameSite: 'strict', secure: secureFor(request, mode), expires: expiresAt } as const;
  reply.setCookie(SESSION_COOKIE, sessionToken, { ...common, httpOnly: true, path: '/api' });
  reply.setCookie(CSRF_COOKIE, csrfTokenFor(sessionToken), { ...common, httpOnly: false, path: '/' });
}

export function clearSessionCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  mode: CookieSecurity,
): void {
  const common = { sameSite: 'strict', secure: secureFor(request, mode) } as const;
  reply.clearCookie(SESSION_COOKIE, { ...common, httpOnly: true, path: '/api' });
  reply.clearCookie(CSRF_COOKIE, { ...common, httpOnly: false, path: '/' });
}
