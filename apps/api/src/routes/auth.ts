import { generateSecret, hashPassword, sipHa1, verifyPassword } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { accountUsable, principalOf, USER_ACCOUNT_INCLUDE } from '../auth/authenticate.ts';
import { issueCredential } from '../auth/tokens.ts';
import { IdParams } from '../crud.ts';
import { badRequest, notFound, tooManyRequests, unauthorized, unprocessable } from '../errors.ts';
import { WindowLimiter } from '../limiter.ts';
import { type ListQuery, listArgs, listQuerySchema, PageOf, paginate } from '../list.ts';
import { HostName, Name, Nullable, SipUsername, Timestamp, Uuid } from '../schemas.ts';
import type { RouteOptions } from './options.ts';

/**
 * Login sessions, API keys and self sign-up. Tokens and keys are random 256-bit values handed out once;
 * the database keeps their SHA-256 only.
 */

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const NewPassword = Type.String({ minLength: 10, maxLength: 1024, description: 'At least 10 characters' });

export const Me = Type.Object({
  userId: Uuid,
  email: Type.String(),
  role: Type.Enum(['operator', 'reseller', 'customer']),
  resellerId: Nullable(Uuid),
  customerId: Nullable(Uuid),
  via: Type.Enum(['session', 'apiKey']),
});

export const ApiKey = Type.Object({
  id: Uuid,
  name: Name,
  prefix: Type.String({ description: 'Start of the key, to recognise it' }),
  userId: Uuid,
  expiresAt: Nullable(Timestamp),
  revokedAt: Nullable(Timestamp),
  lastUsedAt: Nullable(Timestamp),
  createdAt: Timestamp,
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
  app: FastifyInstance,
  { prisma, now, limits, sessionTtlMs }: RouteOptions,
): Promise<void> {
  const perIp = new WindowLimiter({ max: limits.loginFailuresPerIp, windowMs: limits.loginWindowMs }, now);
  const perAccount = new WindowLimiter(
    { max: limits.loginFailuresPerAccount, windowMs: limits.loginWindowMs },
    now,
  );
  const signups = new WindowLimiter({ max: limits.signupsPerIp, windowMs: limits.signupWindowMs }, now);

  app.post(
    '/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'login',
        summary: 'Exchange e-mail and password for a bearer token',
        security: [],
        body: Type.Object({ email: Email, password: Password }, { additionalProperties: false }),
        response: { 200: Type.Object({ token: Type.String(), expiresAt: Timestamp, user: Me }) },
      },
    },
    async (request) => {
      const body = request.body as { email: string; password: string };
      const email = body.email.toLowerCase();
      const accountKey = `account:${email}`;
      const wait = Math.max(perIp.retryAfter(request.ip), perAccount.retryAfter(accountKey));
      if (wait > 0) throw tooManyRequests(wait, 'Too many failed logins, try again later');

      const user = await prisma.user.findUnique({ where: { email }, include: USER_ACCOUNT_INCLUDE });
      const ok = await verifyPassword(body.password, user?.passwordHash ?? (await decoy()));
      if (!user || !ok || !accountUsable(user)) {
        perIp.hit(request.ip);
        perAccount.hit(accountKey);
        await prisma.auditEntry.create({
          data: {
            actor: email,
            action: 'login-failed',
            entity: 'auth',
            sourceIp: request.ip,
            actorUserId: user?.id ?? null,
          },
        });
        throw unauthorized('Wrong e-mail or password');
      }
      perAccount.reset(accountKey);
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
      return {
        token: credential.secret,
        expiresAt,
        user: {
          userId: user.id,
          email: user.email,
          role: user.role,
          resellerId: user.role === 'customer' ? (user.customer?.resellerId ?? null) : user.resellerId,
          customerId: user.customerId,
          via: 'session',
        },
      };
    },
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        tags: ['auth'],
        operationId: 'logout',
        summary: 'Revoke the bearer token of this request',
        response: { 204: Type.Null({ description: 'Revoked' }) },
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
      return reply.code(204).send();
    },
  );

  app.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        operationId: 'whoAmI',
        summary: 'The user behind the bearer token',
        response: { 200: Me },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return { ...p, via: p.sessionId === null ? 'apiKey' : 'session' };
    },
  );

  // --- API keys: each user manages its own ------------------------------------------------------------
  const keyList = { sortable: ['name', 'createdAt'], defaultSort: '-createdAt' };
  app.get(
    '/api-keys',
    {
      schema: {
        tags: ['auth'],
        operationId: 'listApiKeys',
        summary: 'List your API keys',
        querystring: listQuerySchema(keyList),
        response: { 200: PageOf(ApiKey) },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return paginate(prisma.apiKey, listArgs(request.query as ListQuery, keyList), { userId: p.userId });
    },
  );

  app.post(
    '/api-keys',
    {
      schema: {
        tags: ['auth'],
        operationId: 'createApiKey',
        summary: 'Create an API key (shown once)',
        body: Type.Object(
          { name: Name, expiresAt: Type.Optional(Nullable(Timestamp)) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            ...ApiKey.properties,
            key: Type.String({
              description: 'Use as `Authorization: Bearer <key>`. Shown only in this response.',
            }),
          }),
        },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const body = request.body as { name: string; expiresAt?: string | null };
      const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
      if (expiresAt !== null && expiresAt.getTime() <= now()) {
        throw badRequest('The expiry is in the past', [
          { field: '/body/expiresAt', message: 'must be in the future' },
        ]);
      }
      const credential = issueCredential('apiKey');
      const key = await prisma.$transaction(async (tx) => {
        const created = await tx.apiKey.create({
          data: {
            userId: p.userId,
            name: body.name,
            prefix: credential.label,
            keyHash: credential.hash,
            expiresAt,
          },
        });
        await writeAudit(tx, request, {
          action: 'create',
          entity: 'api-keys',
          entityId: created.id,
          after: created,
        });
        return created;
      });
      return reply.code(201).send({ ...key, key: credential.secret });
    },
  );

  app.delete(
    '/api-keys/:id',
    {
      schema: {
        tags: ['auth'],
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Revoked' }) },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const { id } = request.params as { id: string };
      await prisma.$transaction(async (tx) => {
        const key = await tx.apiKey.findFirst({ where: { id, userId: p.userId } });
        if (key === null) throw notFound('API key');
        const revoked = await tx.apiKey.update({
          where: { id },
          data: { revokedAt: key.revokedAt ?? new Date(now()) },
        });
        await writeAudit(tx, request, {
          action: 'revoke',
          entity: 'api-keys',
          entityId: id,
          before: key,
          after: revoked,
        });
      });
      return reply.code(204).send();
    },
  );

  // --- self sign-up ---------------------------------------------------------------------------------------
  app.post(
    '/signup',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'signup',
        summary: 'Create a customer, its login and its first SIP subscriber',
        description:
          'Only in domains with selfSignup enabled. Returns a login token and the SIP password, which is shown once.',
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
          }),
        },
      },
    },
    async (request, reply) => {
      const wait = signups.retryAfter(request.ip);
      if (wait > 0) throw tooManyRequests(wait, 'Too many sign-ups from this address, try again later');
      signups.hit(request.ip);
      const body = request.body as {
        domain: string;
        email: string;
        password: string;
        name?: string;
        username: string;
        displayName?: string;
      };
      const email = body.email.toLowerCase();
      const username = body.username.toLowerCase();
      const domain = await prisma.domain.findUnique({ where: { name: body.domain.toLowerCase() } });
      // An unknown domain and one closed to sign-up look the same from outside.
      if (domain === null || !domain.selfSignup) {
        throw unprocessable('This domain does not accept sign-ups', [
          { field: '/body/domain', message: 'sign-up not available' },
        ]);
      }
      const passwordHash = await hashPassword(body.password);
      const sipPassword = generateSecret(20);
      const credential = issueCredential('session');
      const expiresAt = new Date(now() + sessionTtlMs);
      const result = await prisma.$transaction(async (tx) => {
        const customer = await tx.customer.create({
          data: { name: body.name ?? email, resellerId: domain.resellerId },
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
        return { customer, subscriber, user };
      });
      return reply.code(201).send({
        customerId: result.customer.id,
        userId: result.user.id,
        subscriberId: result.subscriber.id,
        sipUri: `sip:${username}@${domain.name}`,
        sipPassword,
        token: credential.secret,
        expiresAt,
      });
    },
  );
}
