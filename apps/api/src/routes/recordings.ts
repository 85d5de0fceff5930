import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { S3Settings } from '@switchboard/config';
import { recordingWebhookSecretContext, seal } from '@switchboard/push';
import { createStorage, STORAGE_AREAS } from '@switchboard/storage';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { checkFieldRoles, IdParams, registerCrud, requireVisible } from '../crud.ts';
import { badRequest, notFound } from '../errors.ts';
import { Nullable, Timestamp, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import type { Role } from '../types.ts';
import type { RouteOptions } from './options.ts';
import { type ApiPushOptions, lazySealingKey } from './push-credentials.ts';

/**
 * Call recordings (docs/pbx.md): the list, one recording, its audio (WAV, authenticated), and each
 * customer's recording settings. A customer sees only its own; a reseller those of its customers.
 */

const readers: readonly Role[] = ['operator', 'reseller', 'customer'];
const PROVIDERS: readonly Role[] = ['operator', 'reseller'];

export const Recording = Type.Object({
  id: Uuid,
  cdrId: Uuid,
  customerId: Uuid,
  subscriberId: Nullable(Uuid),
  durationMs: Type.Integer({ description: 'Length of the audio, milliseconds' }),
  sizeBytes: Type.Integer(),
  createdAt: Timestamp,
});

export const RecordingMode = Type.Enum(['off', 'always', 'on_demand'], {
  description:
    '`always`: every answered call from the answer on; `on_demand`: while the subscriber has switched it on with the recording code (docs/pbx.md)',
});

export const RecordingSettings = Type.Object({
  recordingMode: RecordingMode,
  recordingAnnouncement: Type.Boolean({
    description: 'Play "this call is recorded" to both parties when recording starts',
  }),
  recordingRetentionDays: Nullable(
    Type.Integer({ minimum: 1, maximum: 3650, description: 'Days kept; null: until deleted' }),
  ),
  recordingWebhookUrl: Nullable(Type.String({ format: 'uri', maxLength: 2048, pattern: '^https?://' })),
  recordingWebhookSecretSet: Type.Boolean({ description: 'Whether a signing secret is set (never shown)' }),
});

const RecordingSettingsPatch = Type.Object(
  {
    recordingMode: Type.Optional(RecordingMode),
    recordingAnnouncement: Type.Optional(Type.Boolean()),
    recordingRetentionDays: Type.Optional(RecordingSettings.properties.recordingRetentionDays),
    recordingWebhookUrl: Type.Optional(RecordingSettings.properties.recordingWebhookUrl),
    recordingWebhookSecret: Type.Optional(
      Nullable(
        Type.String({
          minLength: 16,
          maxLength: 256,
          description:
            'HMAC-SHA256 key of X-Switchboard-Signature; write-only, stored sealed; null removes it',
        }),
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

const SETTINGS_SELECT = {
  recordingMode: true,
  recordingAnnouncement: true,
  recordingRetentionDays: true,
  recordingWebhookUrl: true,
  recordingWebhookSecretSealed: true,
} as const;

interface SettingsRow {
  recordingMode: 'off' | 'always' | 'on_demand';
  recordingAnnouncement: boolean;
  recordingRetentionDays: number | null;
  recordingWebhookUrl: string | null;
  recordingWebhookSecretSealed: string | null;
}

export interface RecordingRouteOptions extends RouteOptions {
  /** Folder the recordings were written to (sip-core's `recording.storageDir`). */
  recordingsDir: string;
  /** The bucket sip-core writes recordings to instead (S3_* settings); unset: `recordingsDir`. */
  objectStorage?: S3Settings | undefined;
  push?: ApiPushOptions;
}

export async function recordingRoutes(
  fastify: FastifyInstance,
  options: RecordingRouteOptions,
): Promise<void> {
  const { prisma, recordingsDir } = options;
  registerCrud(fastify, prisma, {
    path: '/recordings',
    entity: 'recordings',
    singular: 'recording',
    tag: 'recordings',
    model: (db) => db.callRecording,
    item: Recording,
    verbs: ['list', 'read'],
    list: {
      sortable: ['createdAt', 'durationMs'],
      defaultSort: '-createdAt',
      filters: {
        cdrId: { type: 'string' },
        customerId: { type: 'string' },
        subscriberId: { type: 'string' },
        from: { type: 'datetime', field: 'createdAt', op: 'gte' },
        to: { type: 'datetime', field: 'createdAt', op: 'lt' },
      },
    },
    readRoles: readers,
    writeRoles: [],
    readScope: scopes.subscriber,
  });

  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const storage = createStorage(options.objectStorage, recordingsDir, STORAGE_AREAS.callRecordings);
  app.get(
    '/recordings/:id/audio',
    {
      config: { roles: readers },
      schema: {
        tags: ['recordings'],
        operationId: 'getRecordingAudio',
        summary: 'The audio of a recording: a stereo WAV, caller left, callee right',
        params: IdParams,
        produces: ['audio/wav'],
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const recording = await requireVisible(
        prisma,
        (db) => db.callRecording,
        scopes.subscriber(principal),
        request.params.id,
        'Recording',
      );
      // The key comes from our own rows; still, the storage serves nothing outside its folder or area.
      const audio = await storage.get(recording.filePath);
      if (!audio) throw notFound('Recording audio');
      return reply
        .header('content-type', 'audio/wav')
        .header('content-length', String(audio.size))
        .header('cache-control', 'private, no-store')
        .header('content-disposition', `inline; filename="recording-${recording.id}.wav"`)
        .send(audio.body);
    },
  );

  const sealingKey = lazySealingKey(options.push ?? {});
  /** The settings as shown: the secret only as whether one is set. */
  const settingsOf = (row: SettingsRow): Static<typeof RecordingSettings> => ({
    recordingMode: row.recordingMode,
    recordingAnnouncement: row.recordingAnnouncement,
    recordingRetentionDays: row.recordingRetentionDays,
    recordingWebhookUrl: row.recordingWebhookUrl,
    recordingWebhookSecretSet: row.recordingWebhookSecretSealed !== null,
  });

  app.get(
    '/customers/:id/recording-settings',
    {
      config: { roles: readers },
      schema: {
        tags: ['recordings'],
        operationId: 'getRecordingSettings',
        summary: "A customer's call recording settings",
        params: IdParams,
        response: { 200: RecordingSettings },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      await requireVisible(
        prisma,
        (db) => db.customer,
        scopes.customer(principal),
        request.params.id,
        'Customer',
      );
      const row = await prisma.customer.findUniqueOrThrow({
        where: { id: request.params.id },
        select: SETTINGS_SELECT,
      });
      return settingsOf(row);
    },
  );

  app.patch(
    '/customers/:id/recording-settings',
    {
      config: { roles: readers },
      schema: {
        tags: ['recordings'],
        operationId: 'updateRecordingSettings',
        summary:
          "Changes a customer's call recording settings (a customer its own, except the webhook: its provider's)",
        params: IdParams,
        body: RecordingSettingsPatch,
        response: { 200: RecordingSettings },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const id = request.params.id;
      // The platform's nodes POST to the webhook: who runs them chooses where (no customer-chosen request
      // into the platform's own network).
      checkFieldRoles(
        { recordingWebhookUrl: PROVIDERS, recordingWebhookSecret: PROVIDERS },
        principal,
        request.body,
      );
      const { recordingWebhookSecret, ...body } = request.body;
      if (body.recordingWebhookUrl && !/^https?:\/\//i.test(body.recordingWebhookUrl))
        throw badRequest('The webhook must be an http(s) URL', [
          { field: '/body/recordingWebhookUrl', message: 'must start with http:// or https://' },
        ]);
      return prisma.$transaction(async (tx) => {
        const before = await requireVisible(
          tx,
          (db) => db.customer,
          scopes.customer(principal),
          id,
          'Customer',
        );
        const data = {
          ...body,
          ...(recordingWebhookSecret === undefined
            ? {}
            : {
                recordingWebhookSecretSealed:
                  recordingWebhookSecret === null
                    ? null
                    : seal(sealingKey(), recordingWebhookSecret, recordingWebhookSecretContext(id)),
              }),
        };
        const row = await tx.customer.update({ where: { id }, data, select: SETTINGS_SELECT });
        await writeAudit(tx, request, {
          action: 'update',
          entity: 'recording-settings',
          entityId: id,
          before: settingsOf(before),
          after: settingsOf(row),
        });
        return settingsOf(row);
      });
    },
  );
}
