import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { convertToPromptFormat } from '@switchboard/media-endpoint';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Tx } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { IdParams, registerCrud, requireVisible } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Name, NoContent, Nullable, Patch, SipUsername, Timestamps, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import { ROLES } from '../types.ts';
import { addressListOptions, ownerOfNewAddress, requireFreeAddress } from './call-addresses.ts';
import type { RouteOptions } from './options.ts';

/**
 * Auto-attendants of a customer (docs/pbx.md#auto-attendant): a user part in a domain whose callers
 * hear a greeting and choose with one digit where the call goes. A customer sees and edits only its
 * own, and its menu reaches only its own subscribers, hunt groups and voicemail boxes.
 */

const Kind = Type.Enum(['subscriber', 'hunt_group', 'voicemail', 'number'], {
  description:
    "subscriber: a subscriber's id (rung with its forwards); hunt_group: a hunt group's id; voicemail: the subscriber id whose box takes the call; number: one of our numbers as dialled",
});
const Target = Type.String({ minLength: 1, maxLength: 64 });
const Digit = Type.String({ pattern: '^[0-9*#]$', description: '0-9, * or #' });
const Option = Type.Object({ digit: Digit, kind: Kind, target: Target }, { additionalProperties: false });
const Menu = Type.Array(Option, { maxItems: 12, description: 'Digit to destination; each digit once' });
const GreetingText = Type.String({
  minLength: 1,
  maxLength: 1000,
  description: 'Spoken by the platform (espeak-ng) unless a greeting file is uploaded',
});
const DigitTimeout = Type.Integer({ minimum: 1, maximum: 60, description: 'Seconds to wait for a digit' });
const MaxReplays = Type.Integer({
  minimum: 0,
  maximum: 5,
  description: 'Times the greeting plays again after a digit without a menu entry',
});

export const AutoAttendant = Type.Object({
  id: Uuid,
  customerId: Uuid,
  domainId: Uuid,
  username: Type.String(),
  name: Type.String(),
  greetingText: Type.String(),
  greeting: Type.Enum(['generated', 'uploaded']),
  digitTimeout: Type.Integer(),
  maxReplays: Type.Integer(),
  timeoutKind: Nullable(Kind),
  timeoutTarget: Nullable(Type.String()),
  enabled: Type.Boolean(),
  sipUri: Type.String({ description: 'sip:username@domain' }),
  menu: Type.Array(Type.Object({ digit: Type.String(), kind: Kind, target: Type.String() })),
  ...Timestamps,
});

const DEFAULT_GREETING = 'Welcome. Please choose from the following options.';
/** Largest greeting upload (a few minutes of WAV). */
const MAX_GREETING_BYTES = 20 * 1024 * 1024;

interface Row {
  id: string;
  username: string;
  greetingFile: string | null;
  domain: { name: string };
  options: Array<{ digit: string; kind: string; target: string }>;
  [field: string]: unknown;
}

function toItem(row: Row) {
  const { domain, options, greetingFile, ...rest } = row;
  return {
    ...rest,
    id: row.id,
    greeting: greetingFile ? ('uploaded' as const) : ('generated' as const),
    sipUri: `sip:${row.username}@${domain.name}`,
    menu: [...options]
      .sort((a, b) => a.digit.localeCompare(b.digit))
      .map((o) => ({ digit: o.digit, kind: o.kind, target: o.target })),
  };
}

type Destination = { kind: string; target: string };

/** A destination must be the customer's own subscriber or hunt group, or a number as dialled. */
async function checkDestination(tx: Tx, customerId: string, destination: Destination, field: string) {
  const { kind, target } = destination;
  const refuse = (message: string) =>
    badRequest(`The destination is not valid: ${message}`, [{ field, message }]);
  if (kind === 'number') {
    if (!/^\+?[0-9]{1,32}$/.test(target)) throw refuse('expected digits, optionally with leading +');
    return;
  }
  if (!/^[0-9a-f-]{36}$/i.test(target)) throw refuse('expected the id of a subscriber or hunt group');
  const found =
    kind === 'hunt_group'
      ? await tx.huntGroup.count({ where: { id: target, customerId } })
      : await tx.subscriber.count({ where: { id: target, customerId } });
  if (!found)
    throw refuse(
      kind === 'hunt_group' ? 'unknown hunt group of this customer' : 'unknown subscriber of this customer',
    );
}

async function checkMenu(tx: Tx, customerId: string, menu: ReadonlyArray<Destination & { digit: string }>) {
  const seen = new Set<string>();
  for (const [index, option] of menu.entries()) {
    if (seen.has(option.digit))
      throw badRequest('A digit is in the menu twice', [
        { field: `/body/menu/${index}/digit`, message: 'digit already used' },
      ]);
    seen.add(option.digit);
    await checkDestination(tx, customerId, option, `/body/menu/${index}/target`);
  }
}

async function checkTimeout(
  tx: Tx,
  customerId: string,
  kind: string | null | undefined,
  target: string | null | undefined,
) {
  if ((kind ?? null) === null && (target ?? null) === null) return;
  if (!kind || !target)
    throw badRequest('timeoutKind and timeoutTarget go together', [
      { field: kind ? '/body/timeoutTarget' : '/body/timeoutKind', message: 'required with the other' },
    ]);
  await checkDestination(tx, customerId, { kind, target }, '/body/timeoutTarget');
}

/** Where sip-core plays uploaded greetings from (the same `DATA_DIR`; attendant/attendant-media.ts). */
function greetingsDir(dataDir: string | undefined): string {
  return join(dataDir ?? process.env.DATA_DIR ?? './data', 'attendants', 'greetings');
}

export async function autoAttendantRoutes(
  fastify: FastifyInstance,
  { prisma, dataDir }: RouteOptions & { dataDir?: string | undefined },
): Promise<void> {
  registerCrud(fastify, prisma, {
    path: '/auto-attendants',
    entity: 'auto-attendants',
    singular: 'auto-attendant',
    tag: 'auto-attendants',
    model: (db) => db.autoAttendant,
    include: { domain: { select: { name: true } }, options: true },
    item: AutoAttendant,
    toItem: (row) => toItem(row as unknown as Row),
    create: Type.Object(
      {
        customerId: Type.Optional(Uuid),
        domainId: Uuid,
        username: SipUsername,
        name: Name,
        greetingText: Type.Optional(GreetingText),
        digitTimeout: Type.Optional(DigitTimeout),
        maxReplays: Type.Optional(MaxReplays),
        timeoutKind: Type.Optional(Nullable(Kind)),
        timeoutTarget: Type.Optional(Nullable(Target)),
        enabled: Type.Optional(Type.Boolean()),
        menu: Menu,
      },
      { additionalProperties: false },
    ),
    update: Patch({
      name: Name,
      greetingText: GreetingText,
      digitTimeout: DigitTimeout,
      maxReplays: MaxReplays,
      timeoutKind: Nullable(Kind),
      timeoutTarget: Nullable(Target),
      enabled: Type.Boolean(),
      menu: Menu,
    }),
    list: addressListOptions,
    readRoles: ['operator', 'reseller', 'customer'],
    writeRoles: ['operator', 'reseller', 'customer'],
    // Like hunt groups: a customer its own, a reseller its customers', the operator all.
    readScope: scopes.subscriber,
    toCreateData: async (ctx, body) => {
      const customerId = await ownerOfNewAddress(ctx.tx, ctx.principal, body);
      const username = body.username.toLowerCase();
      await requireFreeAddress(ctx.tx, 'autoAttendant', body.domainId, username);
      await checkTimeout(ctx.tx, customerId, body.timeoutKind, body.timeoutTarget);
      await checkMenu(ctx.tx, customerId, body.menu);
      const { menu, ...rest } = body;
      return {
        data: {
          ...rest,
          greetingText: body.greetingText ?? DEFAULT_GREETING,
          customerId,
          username,
          options: { create: menu.map((o) => ({ digit: o.digit, kind: o.kind, target: o.target })) },
        },
      };
    },
    toUpdateData: async (ctx, body, existing) => {
      const row = existing as unknown as {
        customerId: string;
        timeoutKind: string | null;
        timeoutTarget: string | null;
      };
      await checkTimeout(
        ctx.tx,
        row.customerId,
        body.timeoutKind !== undefined ? body.timeoutKind : row.timeoutKind,
        body.timeoutTarget !== undefined ? body.timeoutTarget : row.timeoutTarget,
      );
      const { menu, ...rest } = body;
      if (menu === undefined) return { data: rest };
      await checkMenu(ctx.tx, row.customerId, menu);
      return {
        data: {
          ...rest,
          options: {
            deleteMany: {},
            create: menu.map((o) => ({ digit: o.digit, kind: o.kind, target: o.target })),
          },
        },
      };
    },
  });
  await greetingRoutes(fastify, prisma, greetingsDir(dataDir));
}

/** Uploading a greeting file (converted by sox like a voicemail greeting) and going back to the spoken text. */
async function greetingRoutes(
  fastify: FastifyInstance,
  prisma: RouteOptions['prisma'],
  dir: string,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const everyone = ROLES;
  app.addContentTypeParser(
    ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/mpeg', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: MAX_GREETING_BYTES },
    (_request, body, done) => done(null, body),
  );
  const visible = (request: Parameters<typeof principalOf>[0], id: string) =>
    requireVisible(
      prisma,
      (db) => db.autoAttendant,
      scopes.subscriber(principalOf(request)),
      id,
      'Auto-attendant',
    );

  app.put(
    '/auto-attendants/:id/greeting',
    {
      config: { roles: everyone },
      schema: {
        tags: ['auto-attendants'],
        operationId: 'uploadAutoAttendantGreeting',
        summary: 'Uploads the greeting (WAV or MP3; converted to 8 kHz mono); it replaces the spoken text',
        params: IdParams,
        response: { 204: NoContent('The uploaded greeting plays from the next call on') },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await visible(request, id);
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length < 44)
        throw badRequest('expected an audio file as the body', [
          { field: '/body', message: 'expected audio' },
        ]);
      await mkdir(dir, { recursive: true, mode: 0o750 });
      const upload = join(dir, `${id}-${randomBytes(6).toString('hex')}.upload`);
      const file = `${id}-${randomBytes(6).toString('hex')}.wav`;
      await writeFile(upload, body, { mode: 0o640 });
      try {
        await convertToPromptFormat(upload, join(dir, file));
      } catch {
        throw badRequest('the audio file could not be read (WAV or MP3 expected)', [
          { field: '/body', message: 'not an audio file sox can read' },
        ]);
      } finally {
        await rm(upload, { force: true });
      }
      const before = await prisma.autoAttendant.findUnique({ where: { id }, select: { greetingFile: true } });
      await prisma.autoAttendant.update({ where: { id }, data: { greetingFile: file } });
      if (before?.greetingFile) await rm(join(dir, before.greetingFile), { force: true });
      return reply.code(204).send();
    },
  );

  app.delete(
    '/auto-attendants/:id/greeting',
    {
      config: { roles: everyone },
      schema: {
        tags: ['auto-attendants'],
        operationId: 'deleteAutoAttendantGreeting',
        summary: 'Goes back to the spoken greeting text',
        params: IdParams,
        response: { 204: NoContent('The spoken text plays again') },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await visible(request, id);
      const row = await prisma.autoAttendant.findUnique({ where: { id }, select: { greetingFile: true } });
      if (row?.greetingFile) {
        await prisma.autoAttendant.update({ where: { id }, data: { greetingFile: null } });
        await rm(join(dir, row.greetingFile), { force: true });
      }
      return reply.code(204).send();
    },
  );
}
