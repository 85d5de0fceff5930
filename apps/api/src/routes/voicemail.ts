import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { S3Settings } from '@switchboard/config';
import { hashPassword, type PrismaClient } from '@switchboard/db';
import { convertToPromptFormat } from '@switchboard/media-endpoint';
import { createStorage, type ObjectStorage, STORAGE_AREAS, spoolFor } from '@switchboard/storage';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { IdParams, requireVisible } from '../crud.ts';
import { badRequest, notFound } from '../errors.ts';
import { type ListQuery, type ListSpec, listArgs, listQuerySchema, PageOf, paginate } from '../list.ts';
import { NoContent, Nullable, Patch, Timestamp, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import { ROLES } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * Voicemail (docs/pbx.md#voicemail): a subscriber's box settings, its two greetings (unavailable and
 * busy), and its messages as
 * sip-core recorded them: listed, played and downloaded through an authenticated route, marked heard
 * and deleted. A customer sees its own subscribers' boxes only, a reseller its customers'.
 */

const everyone = ROLES;
/** Largest greeting upload (a few minutes of WAV). */
const MAX_GREETING_BYTES = 10 * 1024 * 1024;

const GreetingState = Type.Enum(['default', 'uploaded'], {
  description:
    '`uploaded`: the box has its own (uploaded, or recorded by phone); `default`: the spoken prompt',
});

/** The box column of each greeting kind. */
const GREETING_COLUMN = { unavailable: 'greeting', busy: 'busyGreeting' } as const;

const GreetingQuery = Type.Object({
  kind: Type.Optional(
    Type.Enum(['unavailable', 'busy'], {
      default: 'unavailable',
      description:
        '`busy`: played to calls a busy forward (CFB) sends to the box; `unavailable` (default): to every other call',
    }),
  ),
});

export const VoicemailSettings = Type.Object({
  subscriberId: Uuid,
  enabled: Type.Boolean({ description: 'Voicemail answers the calls its forwards send to it' }),
  pinSet: Type.Boolean({ description: 'A retrieval PIN is set (it is stored hashed, never shown)' }),
  greeting: Type.Enum(['default', 'uploaded'], {
    description: 'The unavailable greeting (as `greetings.unavailable`)',
  }),
  greetings: Type.Object({ unavailable: GreetingState, busy: GreetingState }),
  maxMessageSeconds: Type.Integer({ minimum: 10, maximum: 600 }),
  maxMessages: Type.Integer({ minimum: 1, maximum: 1000 }),
  email: Nullable(
    Type.String({ format: 'email', maxLength: 254, description: 'New messages are e-mailed here' }),
  ),
  deleteAfterEmail: Type.Boolean({ description: 'Delete a message once its e-mail went out' }),
  unsolicitedMwi: Type.Boolean({
    description:
      "Send message-summary NOTIFYs to the subscriber's registered phones that did not subscribe (many desk phones expect them)",
  }),
});

const VoicemailSettingsPatch = Patch({
  enabled: Type.Boolean(),
  pin: Type.String({ pattern: '^[0-9]{4,12}$', description: '4 to 12 digits' }),
  maxMessageSeconds: Type.Integer({ minimum: 10, maximum: 600 }),
  maxMessages: Type.Integer({ minimum: 1, maximum: 1000 }),
  email: Nullable(Type.String({ format: 'email', maxLength: 254 })),
  deleteAfterEmail: Type.Boolean(),
  unsolicitedMwi: Type.Boolean(),
});

export const Voicemail = Type.Object({
  id: Uuid,
  subscriberId: Uuid,
  customerId: Uuid,
  caller: Type.String({ description: 'The caller as the box owner may see it (`anonymous` when withheld)' }),
  durationMs: Type.Integer(),
  heard: Type.Boolean(),
  createdAt: Timestamp,
});

const voicemailList: ListSpec = {
  sortable: ['createdAt', 'durationMs'],
  defaultSort: '-createdAt',
  filters: {
    heard: { type: 'boolean' },
  },
};

interface VoicemailQuery extends ListQuery {
  subscriberId?: string;
}

type BoxRow = NonNullable<Awaited<ReturnType<PrismaClient['voicemailBox']['findUnique']>>>;

const stateOf = (file: string | null | undefined) => (file ? ('uploaded' as const) : ('default' as const));

function settingsOf(subscriberId: string, box: BoxRow | null) {
  return {
    subscriberId,
    enabled: box?.enabled ?? false,
    pinSet: !!box?.pinHash,
    greeting: stateOf(box?.greeting),
    greetings: { unavailable: stateOf(box?.greeting), busy: stateOf(box?.busyGreeting) },
    maxMessageSeconds: box?.maxMessageSeconds ?? 120,
    maxMessages: box?.maxMessages ?? 100,
    email: box?.email ?? null,
    deleteAfterEmail: box?.deleteAfterEmail ?? false,
    unsolicitedMwi: box?.unsolicitedMwi ?? false,
  };
}

/**
 * Where sip-core keeps recordings and greetings: the same `DATA_DIR`, or the same bucket; greetings being
 * converted pass through `spool` on their way to a bucket.
 */
function storages(
  dataDir: string | undefined,
  s3: S3Settings | undefined,
): { messages: ObjectStorage; greetings: ObjectStorage; spool: string } {
  const root = dataDir ?? process.env.DATA_DIR ?? './data';
  return {
    messages: createStorage(s3, join(root, 'voicemail', 'messages'), STORAGE_AREAS.voicemailMessages),
    greetings: createStorage(s3, join(root, 'voicemail', 'greetings'), STORAGE_AREAS.voicemailGreetings),
    spool: join(root, 'voicemail', 'spool'),
  };
}

export async function voicemailRoutes(
  fastify: FastifyInstance,
  {
    prisma,
    dataDir,
    objectStorage,
  }: RouteOptions & { dataDir?: string | undefined; objectStorage?: S3Settings | undefined },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { messages, greetings, spool } = storages(dataDir, objectStorage);
  app.addContentTypeParser(
    ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/mpeg', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: MAX_GREETING_BYTES },
    (_request, body, done) => done(null, body),
  );
  const visibleSubscriber = (request: Parameters<typeof principalOf>[0], id: string) =>
    requireVisible(prisma, (db) => db.subscriber, scopes.subscriber(principalOf(request)), id, 'Subscriber');
  const visibleMessage = async (request: Parameters<typeof principalOf>[0], id: string) => {
    const row = await prisma.voicemailMessage.findFirst({
      where: { AND: [{ id }, scopes.viaSubscriber(principalOf(request))] },
    });
    if (!row) throw notFound('Voicemail');
    return row;
  };

  app.get(
    '/subscribers/:id/voicemail',
    {
      config: { roles: everyone },
      schema: {
        tags: ['voicemail'],
        operationId: 'getVoicemailSettings',
        summary: "A subscriber's voicemail settings (off when never set)",
        params: IdParams,
        response: { 200: VoicemailSettings },
      },
    },
    async (request) => {
      const { id } = request.params;
      await visibleSubscriber(request, id);
      return settingsOf(id, await prisma.voicemailBox.findUnique({ where: { subscriberId: id } }));
    },
  );

  app.patch(
    '/subscribers/:id/voicemail',
    {
      config: { roles: everyone },
      schema: {
        tags: ['voicemail'],
        operationId: 'updateVoicemailSettings',
        summary: "Changes a subscriber's voicemail settings (the PIN is stored hashed)",
        params: IdParams,
        body: VoicemailSettingsPatch,
        response: { 200: VoicemailSettings },
      },
    },
    async (request) => {
      const { id } = request.params;
      await visibleSubscriber(request, id);
      const { pin, ...fields } = request.body;
      const data = { ...fields, ...(pin !== undefined ? { pinHash: await hashPassword(pin) } : {}) };
      const box = await prisma.$transaction(async (tx) => {
        const before = await tx.voicemailBox.findUnique({ where: { subscriberId: id } });
        const row = await tx.voicemailBox.upsert({
          where: { subscriberId: id },
          create: { subscriberId: id, ...data },
          update: data,
        });
        await writeAudit(tx, request, {
          action: 'update',
          entity: 'voicemail-settings',
          entityId: id,
          before: before ? settingsOf(id, before) : undefined,
          after: settingsOf(id, row),
        });
        return row;
      });
      return settingsOf(id, box);
    },
  );

  app.put(
    '/subscribers/:id/voicemail/greeting',
    {
      config: { roles: everyone },
      schema: {
        tags: ['voicemail'],
        operationId: 'uploadVoicemailGreeting',
        summary: 'Uploads the unavailable or the busy greeting (WAV or MP3; converted to 8 kHz mono)',
        params: IdParams,
        querystring: GreetingQuery,
        response: { 200: VoicemailSettings },
      },
    },
    async (request) => {
      const { id } = request.params;
      await visibleSubscriber(request, id);
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length < 44) throw badRequest('expected an audio file as the body');
      const file = `${id}-${randomBytes(6).toString('hex')}.wav`;
      // sox writes a file: the greeting's own in the folder, or one in the spool that goes to the bucket.
      const target = await spoolFor(greetings, file, spool);
      await mkdir(dirname(target.path), { recursive: true, mode: 0o750 });
      const upload = join(dirname(target.path), `${id}-${randomBytes(6).toString('hex')}.upload`);
      try {
        await writeFile(upload, body, { mode: 0o640 });
        try {
          await convertToPromptFormat(upload, target.path);
        } catch {
          throw badRequest('the audio file could not be read (WAV or MP3 expected)', [
            { field: '/body', message: 'not an audio file sox can read' },
          ]);
        } finally {
          await rm(upload, { force: true });
        }
        await target.commit();
      } finally {
        await target.release();
      }
      const column = GREETING_COLUMN[request.query.kind ?? 'unavailable'];
      const before = await prisma.voicemailBox.findUnique({ where: { subscriberId: id } });
      const box = await prisma.voicemailBox.upsert({
        where: { subscriberId: id },
        create: { subscriberId: id, [column]: file },
        update: { [column]: file },
      });
      const replaced = before?.[column];
      if (replaced) await greetings.delete(replaced);
      return settingsOf(id, box);
    },
  );

  app.delete(
    '/subscribers/:id/voicemail/greeting',
    {
      config: { roles: everyone },
      schema: {
        tags: ['voicemail'],
        operationId: 'deleteVoicemailGreeting',
        summary: 'Goes back to the default greeting of that kind',
        params: IdParams,
        querystring: GreetingQuery,
        response: { 204: NoContent('The default greeting plays again') },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await visibleSubscriber(request, id);
      const column = GREETING_COLUMN[request.query.kind ?? 'unavailable'];
      const box = await prisma.voicemailBox.findUnique({ where: { subscriberId: id } });
      const file = box?.[column];
      if (file) {
        await prisma.voicemailBox.update({ where: { subscriberId: id }, data: { [column]: null } });
        await greetings.delete(file);
      }
      return reply.code(204).send();
    },
  );

  app.get(
    '/voicemails',
    {
      config: { roles: everyone },
      schema: {
        tags: ['voicemail'],
        operationId: 'listVoicemails',
        summary: 'List voicemail messages',
        querystring: listQuerySchema(voicemailList, {
          subscriberId: Type.String({ format: 'uuid', description: "One subscriber's box" }),
        }),
        response: { 200: PageOf(Voicemail) },
      },
    },
    async (request) => {
      const q: VoicemailQuery = request.query;
      const args = listArgs(q, voicemailList);
      if (q.subscriberId) args.where = { AND: [args.where, { subscriberId: q.subscriberId }] };
      return paginate(prisma.voicemailMessage, args, scopes.viaSubscriber(principalOf(request)));
    },
  );

  app.get(
    '/voicemails/:id',
    {
      config: { roles: everyone },
      schema: {
        tags: ['voicemail'],
        operationId: 'getVoicemail',
        summary: 'One voicemail message',
        params: IdParams,
        response: { 200: Voicemail },
      },
    },
    (request) => visibleMessage(request, request.params.id),
  );

  app.get(
    '/voicemails/:id/audio',
    {
      config: { roles: everyone },
      schema: {
        tags: ['voicemail'],
        operationId: 'getVoicemailAudio',
        summary: "A message's recording (WAV); `?download=1` as an attachment",
        params: IdParams,
        querystring: Type.Object({ download: Type.Optional(Type.Boolean()) }),
      },
    },
    async (request, reply) => {
      const row = await visibleMessage(request, request.params.id);
      const audio = await messages.get(row.file);
      if (!audio) throw notFound('Recording');
      const name = `voicemail-${row.createdAt.toISOString().replace(/[:.]/g, '-')}.wav`;
      return reply
        .header('Content-Type', 'audio/wav')
        .header('Content-Length', String(audio.size))
        .header('Cache-Control', 'private, no-store')
        .header(
          'Content-Disposition',
          `${request.query.download ? 'attachment' : 'inline'}; filename="${name}"`,
        )
        .send(audio.body);
    },
  );

  app.patch(
    '/voicemails/:id',
    {
      config: { roles: everyone },
      schema: {
        tags: ['voicemail'],
        operationId: 'updateVoicemail',
        summary: 'Marks a message heard or new (phones see it in their message-waiting light)',
        params: IdParams,
        body: Patch({ heard: Type.Boolean() }),
        response: { 200: Voicemail },
      },
    },
    async (request) => {
      const row = await visibleMessage(request, request.params.id);
      return prisma.voicemailMessage.update({
        where: { id: row.id },
        data: { heard: request.body.heard ?? row.heard },
      });
    },
  );

  app.delete(
    '/voicemails/:id',
    {
      config: { roles: everyone },
      schema: {
        tags: ['voicemail'],
        operationId: 'deleteVoicemail',
        summary: 'Deletes a message and its recording',
        params: IdParams,
        response: { 204: NoContent('Deleted') },
      },
    },
    async (request, reply) => {
      const row = await visibleMessage(request, request.params.id);
      await prisma.voicemailMessage.delete({ where: { id: row.id } });
      await messages.delete(row.file);
      await writeAudit(prisma, request, {
        action: 'delete',
        entity: 'voicemails',
        entityId: row.id,
        before: row,
      });
      return reply.code(204).send();
    },
  );
}
