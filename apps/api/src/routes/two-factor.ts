import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { verifyPassword } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { newTotpSecret, otpauthUri } from '../auth/totp.ts';
import { ApiError, conflict } from '../errors.ts';
import { Timestamp } from '../schemas.ts';
import type { RouteOptions } from './options.ts';

const Code = Type.String({ minLength: 6, maxLength: 32, description: 'A code from the authenticator app' });

const TwoFactorState = Type.Object({
  enabled: Type.Boolean(),
  enabledAt: Type.Union([Timestamp, Type.Null()]),
  required: Type.Boolean({ description: 'The operator requires a second factor of your role' }),
});

/**
 * One's own TOTP second factor (RFC 6238): enrol (a new secret, shown once as an otpauth:// URI for a QR
 * code), confirm with one valid code (which switches it on and hands out recovery codes), switch it off with
 * the password. These routes stay open to a user who must enrol before doing anything else.
 */
export async function twoFactorRoutes(
  parent: FastifyInstance,
  { prisma, now, twoFactor }: RouteOptions,
): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const config = { twoFactorEnrolment: true } as const;

  app.get(
    '/auth/two-factor',
    {
      config,
      schema: {
        tags: ['auth'],
        operationId: 'getTwoFactor',
        summary: 'Whether your login has a second factor and whether your role must have one',
        response: { 200: TwoFactorState },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const user = await prisma.user.findUniqueOrThrow({ where: { id: p.userId } });
      return {
        enabled: user.totpEnabledAt !== null,
        enabledAt: user.totpEnabledAt?.toISOString() ?? null,
        required: await twoFactor.requiredFor(p.role),
      };
    },
  );

  app.post(
    '/auth/two-factor/enrolment',
    {
      config,
      schema: {
        tags: ['auth'],
        operationId: 'startTwoFactorEnrolment',
        summary: 'Start TOTP enrolment: a new secret for your authenticator app',
        description:
          'Answers the secret and its otpauth:// URI once (show it as a QR code). Nothing changes at login ' +
          'until one code of it is confirmed. Starting again replaces an unconfirmed secret.',
        response: { 200: Type.Object({ secret: Type.String(), otpauthUri: Type.String() }) },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const user = await prisma.user.findUniqueOrThrow({ where: { id: p.userId } });
      if (user.totpEnabledAt !== null) {
        throw conflict('Two-factor sign-in is already on; switch it off first to enrol a new app');
      }
      const secret = newTotpSecret();
      await prisma.user.update({
        where: { id: p.userId },
        data: { totpSecretSealed: twoFactor.sealSecret(p.userId, secret), totpLastStep: null },
      });
      return { secret, otpauthUri: otpauthUri(secret, p.email) };
    },
  );

  app.post(
    '/auth/two-factor/confirmation',
    {
      config,
      schema: {
        tags: ['auth'],
        operationId: 'confirmTwoFactor',
        summary: 'Confirm enrolment with one code; switches two-factor sign-in on',
        description: 'Answers ten recovery codes, each good for one sign-in without the app. Shown once.',
        body: Type.Object({ code: Code }, { additionalProperties: false }),
        response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }) },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return prisma.$transaction(async (tx) => {
        const user = await tx.user.findUniqueOrThrow({ where: { id: p.userId } });
        if (user.totpEnabledAt !== null) throw conflict('Two-factor sign-in is already on');
        if (user.totpSecretSealed === null) {
          throw conflict('Start with POST /api/v1/auth/two-factor/enrolment');
        }
        if (!(await twoFactor.acceptTotp(tx, user, request.body.code))) {
          throw new ApiError(400, 'The code does not match; check the time on your phone', [
            { field: '/body/code', message: 'wrong code' },
          ]);
        }
        await tx.user.update({ where: { id: p.userId }, data: { totpEnabledAt: new Date(now()) } });
        const recoveryCodes = await twoFactor.newRecoveryCodes(tx, p.userId);
        await writeAudit(tx, request, { action: 'enable-two-factor', entity: 'users', entityId: p.userId });
        return { recoveryCodes };
      });
    },
  );

  app.delete(
    '/auth/two-factor',
    {
      config,
      schema: {
        tags: ['auth'],
        operationId: 'disableTwoFactor',
        summary: 'Switch two-factor sign-in off (needs your password)',
        body: Type.Object(
          { password: Type.String({ minLength: 1, maxLength: 1024 }) },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null({ description: 'Off; recovery codes deleted' }) },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const user = await prisma.user.findUniqueOrThrow({ where: { id: p.userId } });
      if (!(await verifyPassword(request.body.password, user.passwordHash))) {
        throw new ApiError(403, 'The password is wrong', [
          { field: '/body/password', message: 'wrong password' },
        ]);
      }
      await prisma.$transaction(async (tx) => {
        await tx.user.update({
          where: { id: p.userId },
          data: { totpSecretSealed: null, totpEnabledAt: null, totpLastStep: null },
        });
        await tx.oneTimeToken.deleteMany({ where: { userId: p.userId, purpose: 'totp_recovery' } });
        await writeAudit(tx, request, { action: 'disable-two-factor', entity: 'users', entityId: p.userId });
      });
      return reply.code(204).send(null);
    },
  );
}
