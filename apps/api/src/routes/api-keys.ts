import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { issueCredential } from '../auth/tokens.ts';
import { IdParams } from '../crud.ts';
import { badRequest, notFound } from '../errors.ts';
import { listArgs, listQuerySchema, PageOf, paginate } from '../list.ts';
import { Name, NoContent, Nullable, Timestamp, Uuid } from '../schemas.ts';
import type { RouteOptions } from './options.ts';

/**
 * API keys: long-lived bearer credentials for machines, each acting as the user who made it. Shown once;
 * the database keeps their SHA-256 only. A password change and disabling or re-enabling the user revoke
 * them all (auth/credentials.ts).
 */

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

export async function apiKeyRoutes(fastify: FastifyInstance, { prisma, now }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
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
      return paginate(prisma.apiKey, listArgs(request.query, keyList), { userId: p.userId });
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
      const body = request.body;
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
        response: { 204: NoContent('Revoked') },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const { id } = request.params;
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
}
