import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { consumeOneTimeToken, issueOneTimeToken } from '../auth/one-time-tokens.ts';
import { IdParams } from '../crud.ts';
import { ApiError, notFound, tooManyRequests } from '../errors.ts';
import { WindowLimiter } from '../limiter.ts';
import { linphoneProvisioning, registrarUri } from '../provisioning-xml.ts';
import { requestOrigin } from '../public-url.ts';
import { Timestamp, Uuid } from '../schemas.ts';
import type { SipConnection } from '../sip-connection.ts';
import { scopes, within } from '../tenancy.ts';
import type { RouteOptions } from './options.ts';

const SipConnectionSchema = Type.Object({
  host: Type.Union([Type.String(), Type.Null()], {
    description: 'Where phones send SIP (SIP_ADVERTISED_ADDRESS); null when the platform does not know',
  }),
  listeners: Type.Array(
    Type.Object({ transport: Type.Enum(['udp', 'tcp', 'tls', 'ws', 'wss']), port: Type.Integer() }),
  ),
  registrar: Type.Union([Type.String(), Type.Null()], {
    description:
      'The URI a softphone registers through (outbound proxy), e.g. sip:192.0.2.1:5060;transport=udp',
  }),
});

export interface ProvisioningRouteOptions extends RouteOptions {
  sipConnection: () => SipConnection;
  publicUrl: string | undefined;
}

/**
 * Connection details and softphone provisioning. A signed-in user asks for a provisioning link of a
 * subscriber it may see; the link carries a single-use token (15 minutes, stored hashed) and answers
 * Linphone's remote-provisioning XML once. The document holds the account's MD5 HA1, never a password (the
 * platform has none): a softphone that imports it registers without the user typing anything.
 */
export async function provisioningRoutes(
  parent: FastifyInstance,
  options: ProvisioningRouteOptions,
): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { prisma, now, limits, sipConnection } = options;
  const fetches = new WindowLimiter({ max: limits.loginFailuresPerIp, windowMs: limits.loginWindowMs }, now);

  app.get(
    '/sip-connection',
    {
      schema: {
        tags: ['provisioning'],
        operationId: 'getSipConnection',
        summary: 'Server host, ports and transports a phone connects to',
        response: { 200: SipConnectionSchema },
      },
    },
    async () => {
      const connection = sipConnection();
      return {
        host: connection.host ?? null,
        listeners: connection.listeners,
        registrar: registrarUri(connection) ?? null,
      };
    },
  );

  app.post(
    '/subscribers/:id/provisioning',
    {
      config: { roles: ['operator', 'reseller', 'customer'] },
      schema: {
        tags: ['provisioning'],
        operationId: 'createProvisioningLink',
        summary: 'A single-use link to the softphone provisioning of a subscriber',
        description:
          'The URL answers Linphone remote-provisioning XML (account and MD5 HA1 credentials) once, within ' +
          '15 minutes. Show it as a QR code for the phone to scan.',
        params: IdParams,
        response: { 201: Type.Object({ subscriberId: Uuid, url: Type.String(), expiresAt: Timestamp }) },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const { id } = request.params;
      if (registrarUri(sipConnection()) === undefined) {
        throw new ApiError(503, 'The SIP address of the platform is unknown (SIP_ADVERTISED_ADDRESS)');
      }
      const token = await prisma.$transaction(async (tx) => {
        const subscriber = await tx.subscriber.findFirst({ where: within(scopes.subscriber(p), { id }) });
        if (subscriber === null) throw notFound('Subscriber');
        const issued = await issueOneTimeToken(tx, 'provisioning', { subscriberId: id }, now());
        await writeAudit(tx, request, { action: 'provisioning-link', entity: 'subscribers', entityId: id });
        return issued;
      });
      const url = `${requestOrigin(request, options.publicUrl)}/api/v1/provisioning/${token.secret}`;
      return reply.code(201).send({ subscriberId: id, url, expiresAt: token.expiresAt!.toISOString() });
    },
  );

  app.get(
    '/provisioning/:token',
    {
      config: { public: true },
      schema: {
        tags: ['provisioning'],
        operationId: 'fetchProvisioning',
        summary: 'Linphone remote-provisioning XML of one subscriber (single use)',
        description: 'Answers application/xml (lpconfig). Unknown, used and expired tokens all answer 404.',
        security: [],
        params: Type.Object({ token: Type.String({ minLength: 16, maxLength: 200 }) }),
      },
    },
    async (request, reply) => {
      const wait = fetches.retryAfter(request.ip);
      if (wait > 0) throw tooManyRequests(wait, 'Too many unknown provisioning links from this address');
      const owner = await consumeOneTimeToken(prisma, 'provisioning', request.params.token, now());
      const subscriber = owner?.subscriberId
        ? await prisma.subscriber.findUnique({ where: { id: owner.subscriberId }, include: { domain: true } })
        : null;
      const registrar = registrarUri(sipConnection());
      if (subscriber === null || registrar === undefined) {
        // Guessing tokens costs the address; a good one does not count.
        fetches.hit(request.ip);
        throw notFound('Provisioning link');
      }
      const xml = linphoneProvisioning(
        {
          username: subscriber.username,
          domain: subscriber.domain.name,
          displayName: subscriber.displayName,
          ha1Md5: subscriber.ha1Md5,
        },
        registrar,
      );
      return reply.type('application/xml; charset=utf-8').header('cache-control', 'no-store').send(xml);
    },
  );
}
