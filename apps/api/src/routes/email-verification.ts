import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Tx } from '../audit.ts';
import { writeAudit } from '../audit.ts';
import { consumeOneTimeToken, issueOneTimeToken, TOKEN_LIFETIME_MS } from '../auth/one-time-tokens.ts';
import { badRequest, tooManyRequests } from '../errors.ts';
import { WindowLimiter } from '../limiter.ts';
import type { Mailer } from '../mail.ts';
import type { MailRouteOptions } from './password-reset.ts';

/**
 * Sends the sign-up's verification link. The customer stays locked (no SIP service) until the link is
 * followed; the portal login works meanwhile, so the user can see where things stand.
 */
export async function sendVerificationMail(
  tx: Tx,
  mailer: Mailer,
  base: string,
  user: { id: string; email: string },
  now: number,
): Promise<() => Promise<void>> {
  const token = await issueOneTimeToken(tx, 'email_verification', { userId: user.id }, now);
  const link = `${base}/verify-email?token=${encodeURIComponent(token.secret)}`;
  const hours = TOKEN_LIFETIME_MS.email_verification / 3_600_000;
  // Sent once the transaction committed: a rolled-back sign-up must not leave a link behind.
  return () =>
    mailer.send({
      to: user.email,
      subject: 'Confirm your e-mail address for Switchboard',
      text:
        `Welcome! Open this link within ${hours} hours to confirm ${user.email} and switch on your phone ` +
        `service:\n${link}\n\nIf you did not sign up, ignore this message.\n`,
    });
}

/**
 * What the sign-up form needs before an account exists: the domains open for sign-up (the picker), and
 * the end of the e-mail check.
 */
export async function emailVerificationRoutes(
  parent: FastifyInstance,
  options: MailRouteOptions,
): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { prisma, now, limits } = options;
  const attempts = new WindowLimiter({ max: limits.loginFailuresPerIp, windowMs: limits.loginWindowMs }, now);

  app.get(
    '/signup/domains',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'listSignupDomains',
        summary: 'Domains open for self sign-up',
        description: 'Empty when the platform cannot send e-mail: sign-up needs it to check the address.',
        security: [],
        response: { 200: Type.Object({ domains: Type.Array(Type.String()) }) },
      },
    },
    async () => {
      if (options.mailer === undefined) return { domains: [] };
      const rows = await prisma.domain.findMany({
        where: { selfSignup: true },
        select: { name: true },
        orderBy: { name: 'asc' },
        take: 500,
      });
      return { domains: rows.map((r) => r.name) };
    },
  );

  app.post(
    '/signup/verification',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'verifySignupEmail',
        summary: 'Confirm a sign-up e-mail address with the token from the link',
        description: 'Works once. Switches on the SIP service of the customer the sign-up created.',
        security: [],
        body: Type.Object(
          { token: Type.String({ minLength: 16, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ email: Type.String() }) },
      },
    },
    async (request) => {
      const wait = attempts.take(request.ip);
      if (wait > 0) throw tooManyRequests(wait, 'Too many attempts from this address, try again later');
      const result = await prisma.$transaction(async (tx) => {
        const owner = await consumeOneTimeToken(tx, 'email_verification', request.body.token, now());
        const user = owner?.userId
          ? await tx.user.findUnique({ where: { id: owner.userId }, include: { customer: true } })
          : null;
        if (user === null) {
          throw badRequest('The link is invalid, used or expired', [
            { field: '/body/token', message: 'invalid, used or expired' },
          ]);
        }
        await tx.user.update({ where: { id: user.id }, data: { emailVerifiedAt: new Date(now()) } });
        // Only the lock the sign-up set (on the first check): a customer its provider locked stays locked.
        const first = user.emailVerifiedAt === null;
        if (first && user.customer?.status === 'locked' && user.customer.statusSetBy === null) {
          await tx.customer.update({ where: { id: user.customer.id }, data: { status: 'active' } });
        }
        await writeAudit(
          tx,
          request,
          { action: 'verify-email', entity: 'users', entityId: user.id },
          { userId: user.id, apiKeyId: null, label: user.email },
        );
        return { email: user.email };
      });
      attempts.refund(request.ip);
      return result;
    },
  );
}
