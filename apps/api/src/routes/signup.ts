import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { generateSecret, hashPassword, sipHa1 } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { setSessionCookies } from '../auth/cookies.ts';
import { assertPasswordAllowed, loginIdentities } from '../auth/password-policy.ts';
import { issueCredential } from '../auth/tokens.ts';
import { tooManyRequests, unprocessable } from '../errors.ts';
import { WindowLimiter } from '../limiter.ts';
import { HostName, Name, SipUsername, Timestamp, Uuid } from '../schemas.ts';
import { Email, NewPassword } from './auth.ts';
import { sendVerificationMail } from './email-verification.ts';
import { type MailRouteOptions, mailLinks } from './password-reset.ts';

/**
 * Self sign-up: a customer, its login and its first SIP subscriber in one step, in domains that allow it.
 * The new login is signed in at once, like a login: token in the body and the web app's session cookies.
 * The customer starts locked (no SIP service) until the e-mail link is followed (email-verification.ts).
 */
export async function signupRoutes(fastify: FastifyInstance, options: MailRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { prisma, now, limits, sessionTtlMs, cookieSecure } = options;
  const signups = new WindowLimiter({ max: limits.signupsPerIp, windowMs: limits.signupWindowMs }, now);

  app.post(
    '/signup',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'signup',
        summary: 'Create a customer, its login and its first SIP subscriber',
        description:
          'Only in domains with selfSignup enabled, and only when the platform can send e-mail (503 otherwise). ' +
          'Returns a login token and the SIP password, which is shown once. The SIP account works once the ' +
          'link sent to the e-mail address is followed.',
        security: [],
        body: Type.Object(
          {
            domain: HostName,
            email: Email,
            password: NewPassword,
            name: Type.Optional(Name),
            username: SipUsername,
            displayName: Type.Optional(Name),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            customerId: Uuid,
            userId: Uuid,
            subscriberId: Uuid,
            sipUri: Type.String(),
            sipPassword: Type.String({ description: 'Shown only in this response' }),
            token: Type.String(),
            expiresAt: Timestamp,
            emailVerification: Type.Literal('sent', {
              description: 'A link went to the e-mail address; SIP service starts when it is followed',
            }),
          }),
        },
      },
    },
    async (request, reply) => {
      const { mailer, base } = mailLinks(request, options);
      const wait = signups.retryAfter(request.ip);
      if (wait > 0) throw tooManyRequests(wait, 'Too many sign-ups from this address, try again later');
      signups.hit(request.ip);
      const body = request.body;
      const email = body.email.toLowerCase();
      const username = body.username.toLowerCase();
      const domain = await prisma.domain.findUnique({ where: { name: body.domain.toLowerCase() } });
      // An unknown domain and one closed to sign-up look the same from outside.
      if (domain === null || !domain.selfSignup) {
        throw unprocessable('This domain does not accept sign-ups', [
          { field: '/body/domain', message: 'sign-up not available' },
        ]);
      }
      // The login password must not be the SIP user name chosen in the same form either.
      assertPasswordAllowed(body.password, {
        field: '/body/password',
        identities: [...loginIdentities(email), username],
      });
      const passwordHash = await hashPassword(body.password);
      const sipPassword = generateSecret(20);
      const credential = issueCredential('session');
      const expiresAt = new Date(now() + sessionTtlMs);
      const result = await prisma.$transaction(async (tx) => {
        const customer = await tx.customer.create({
          data: { name: body.name ?? email, resellerId: domain.resellerId, status: 'locked' },
        });
        const subscriber = await tx.subscriber.create({
          data: {
            customerId: customer.id,
            domainId: domain.id,
            username,
            displayName: body.displayName ?? null,
            ...sipHa1(username, domain.name, sipPassword),
          },
        });
        const user = await tx.user.create({
          data: {
            email,
            passwordHash,
            role: 'customer',
            customerId: customer.id,
            subscriberId: subscriber.id,
          },
        });
        await tx.session.create({
          data: { userId: user.id, tokenHash: credential.hash, expiresAt, sourceIp: request.ip },
        });
        const actor = { userId: user.id, apiKeyId: null, label: email };
        await writeAudit(
          tx,
          request,
          { action: 'signup', entity: 'customers', entityId: customer.id, after: customer },
          actor,
        );
        await writeAudit(
          tx,
          request,
          { action: 'create', entity: 'subscribers', entityId: subscriber.id, after: subscriber },
          actor,
        );
        const sendMail = await sendVerificationMail(tx, mailer, base, user, now());
        return { customer, subscriber, user, sendMail };
      });
      await result.sendMail().catch(() => undefined);
      setSessionCookies(request, reply, credential.secret, expiresAt, cookieSecure);
      return reply.code(201).send({
        customerId: result.customer.id,
        userId: result.user.id,
        subscriberId: result.subscriber.id,
        sipUri: `sip:${username}@${domain.name}`,
        sipPassword,
        token: credential.secret,
        expiresAt,
        emailVerification: 'sent',
      });
    },
  );
}
