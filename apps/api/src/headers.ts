import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Browser hardening headers on every answer of the API and the web app it serves. The web app is a built
 * bundle served from this origin, so scripts, API calls and fonts come from 'self' only. Styles also allow
 * inline: the component library writes its theme variables into a style element and style attributes. Images
 * allow data: URLs (the provisioning QR code). No page may frame the app (clickjacking). Connections also
 * allow wss: the portal's browser phone speaks SIP over secure WebSocket (RFC 7118) to the engine, on its own
 * port and possibly its own host, which this static policy cannot name.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'", 'wss:'],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
};

async function headers(app: FastifyInstance): Promise<void> {
  await app.register(fastifyHelmet, {
    global: true,
    // Explicit directives only: helmet's defaults add upgrade-insecure-requests, which breaks an installation
    // reached over plain HTTP on a private address.
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
  });
}

export const securityHeaders = fp(headers, { name: 'switchboard-security-headers' });
