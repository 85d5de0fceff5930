import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { hashPassword } from '@switchboard/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { revokeCredentials } from '../auth/credentials.ts';
import { consumeOneTimeToken, issueOneTimeToken, TOKEN_LIFETIME_MS } from '../auth/one-time-tokens.ts';
import { assertPasswordAllowed, loginIdentities } from '../auth/password-policy.ts';
import { ApiError, badRequest, tooManyRequests } from '../errors.ts';
import { WindowLimiter } from '../limiter.ts';
import type { Mailer } from '../mail.ts';
import { linkBase } from '../public-url.ts';
import { Email, NewPassword } from './auth.ts';
import type { RouteOptions } from './options.ts';

/** Reset requests one e-mail address may cause per window: enough to retry, too few to flood a mailbox. */
const MAILS_PER_ADDRESS = 3;

export interface MailRouteOptions extends RouteOptions {
  mailer: Mailer | undefined;
  publicUrl: string | undefined;
}

/** 503 when a feature needs outgoing e-mail and links, and the operator has not configured them. */
export function mailLinks(
  request: FastifyRequest,
  options: MailRouteOptions,
): { mailer: Mailer; base: string } {
  if (options.mailer === undefined) {
    throw new ApiError(503, 'E-mail is not configured on this platform (SMTP_URL); ask your provider');
  }
  const base = linkBase(request, options.publicUrl);
  if (base === undefined) {
    throw new ApiError(503, 'PUBLIC_URL is not configured, so no link can be sent; ask your provider');
  }
  return { mailer: options.mailer, base };
}

/**
 * Password reset by e-mail: a request sends a single-use link (30 minutes) to the address if it has a
 * login, and answers the same either way; following the link sets a new password and ends every session and
 * API key of the user, as a password change does. Both steps count against per-address budgets.
 */
export async function passwordResetRoutes(parent: FastifyInstance, options: MailRouteOptions): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { prisma, now, limits } = options;
  const window = { windowMs: limits.loginWindowMs };
  const perClient = new WindowLimiter({ max: limits.loginFailuresPerIp, ...window }, now);
  const perEmail = new WindowLimiter({ max: MAILS_PER_ADDRESS, ...window }, now);

  app.post(
    '/auth/password-reset',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'requestPasswordReset',
        summary: 'Send a password-reset link to an e-mail address',
        description:
          'Answers 202 whether or not the address has a login, so the answer tells nothing about accounts. ' +
          'The link holds a single-use token good for 30 minutes.',
        security: [],
        body: Type.Object({ email: Email }, { additionalProperties: false }),
        response: { 202: Type.Object({ message: Type.String() }) },
      },
    },
    async (request, reply) => {
      const { mailer, base } = mailLinks(request, options);
      const wait = perClient.take(request.ip);
      if (wait > 0) throw tooManyRequests(wait, 'Too many reset requests from this address, try again later');
      const email = request.body.email.toLowerCase();
      const message = 'If this address has a login, a link to set a new password is on its way.';
      if (perEmail.take(email) > 0) return reply.code(202).send({ message });
      const user = await prisma.user.findUnique({ where: { email } });
      if (user === null || !user.enabled) return reply.code(202).send({ message });
      const token = await issueOneTimeToken(prisma, 'password_reset', { userId: user.id }, now());
      const link = `${base}/reset-password?token=${encodeURIComponent(token.secret)}`;
      const minutes = TOKEN_LIFETIME_MS.password_reset / 60_000;
      // Not awaited: the answer must take as long for a known address as for an unknown one.
      void mailer
        .send({
          to: user.email,
          subject: 'Set a new Switchboard password',
          text:
            `Someone (hopefully you) asked to set a new password for ${user.email}.\n\n` +
            `Open this link within ${minutes} minutes to choose one:\n${link}\n\n` +
            'If you did not ask for this, ignore this message; your password stays as it is.\n',
        })
        .catch(() => undefined);
      return reply.code(202).send({ message });
    },
  );

  app.post(
    '/auth/password-reset/completion',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'completePasswordReset',
        summary: 'Set a new password with the token from the reset e-mail',
        description: 'The token works once. Every session and API key of the user is revoked.',
        security: [],
        body: Type.Object(
          { token: Type.String({ minLength: 16, maxLength: 200 }), newPassword: NewPassword },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null({ description: 'Password set; sign in with it' }) },
      },
    },
    async (request, reply) => {
      const wait = perClient.take(request.ip);
      if (wait > 0) throw tooManyRequests(wait, 'Too many attempts from this address, try again later');
      const { token, newPassword } = request.body;
      await prisma.$transaction(async (tx) => {
        const owner = await consumeOneTimeToken(tx, 'password_reset', token, now());
        const user = owner?.userId ? await tx.user.findUnique({ where: { id: owner.userId } }) : null;
        if (user === null) {
          throw badRequest('The link is invalid, used or expired; ask for a new one', [
            { field: '/body/token', message: 'invalid, used or expired' },
          ]);
        }
        assertPasswordAllowed(newPassword, {
          field: '/body/newPassword',
          identities: loginIdentities(user.email),
        });
        const at = new Date(now());
        await tx.user.update({
          where: { id: user.id },
          // The mailbox answered: the address is proven too.
          data: {
            passwordHash: await hashPassword(newPassword),
            emailVerifiedAt: user.emailVerifiedAt ?? at,
          },
        });
        await revokeCredentials(tx, user.id, at);
        // Other reset links of the same user die with this one.
        await tx.oneTimeToken.updateMany({
          where: { userId: user.id, purpose: 'password_reset', usedAt: null },
          data: { usedAt: at },
        });
        await writeAudit(
          tx,
          request,
          { action: 'reset-password', entity: 'users', entityId: user.id },
          { userId: user.id, apiKeyId: null, label: user.email },
        );
      });
      // The right token gives its attempt back, like a good login.
      perClient.refund(request.ip);
      return reply.code(204).send(null);
    },
  );
}
