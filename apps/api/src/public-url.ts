import type { FastifyRequest } from 'fastify';

function loopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Where links to the web app point. `PUBLIC_URL` when the operator set it. Otherwise the address the request
 * came to, but only when that is a loopback address: a Host header is whatever the client wrote, and a link
 * built from a forged one would send a password-reset token to the forger's site.
 */
export function linkBase(request: FastifyRequest, configured: string | undefined): string | undefined {
  if (configured !== undefined) return configured;
  return loopback(request.hostname) ? `${request.protocol}://${request.host}` : undefined;
}

/**
 * Where a signed-in user's own browser reached the API: good enough for a link that user scans into a
 * phone on the same network (a forged Host header only misleads the one who forged it).
 */
export function requestOrigin(request: FastifyRequest, configured: string | undefined): string {
  return configured ?? `${request.protocol}://${request.host}`;
}
