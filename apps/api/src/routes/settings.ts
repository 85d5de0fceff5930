import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  SETTINGS,
  type SettingDefinition,
  type SettingValue,
  settingDefinition,
  settingProblem,
  settingsConflict,
} from '@switchboard/config';
import type { FastifyInstance } from 'fastify';
import { type TOptional, type TUnsafe, Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { badRequest, conflict } from '../errors.ts';
import type { RouteOptions } from './options.ts';

/**
 * `/api/v1/settings` (operator only): the SIP side's operator settings, each with its default, its current
 * value and where that comes from. A change is stored in the `settings` table and reaches every sip-core
 * through the change feed, which applies it without a restart. A setting whose environment variable is
 * set is fixed by the deployment: a PATCH of it is refused (409) and nothing is stored.
 */
export interface SettingRouteOptions extends RouteOptions {
  environmentSettings: ReadonlyMap<string, SettingValue>;
}

const Value = Type.Union([Type.Integer(), Type.Boolean(), Type.Array(Type.String())]);

const Setting = Type.Object({
  key: Type.String({ description: "sip-core's configuration path, e.g. access.rateLimitPerSecond" }),
  description: Type.String(),
  kind: Type.Enum(['integer', 'boolean', 'addresses']),
  default: Value,
  value: Value,
  source: Type.Enum(['default', 'database', 'environment'], {
    description: '`environment`: fixed by `variable` (not changeable here); `database`: set by an operator',
  }),
  variable: Type.Optional(Type.String({ description: 'Environment variable that fixes it when set' })),
  min: Type.Optional(Type.Integer()),
  max: Type.Optional(Type.Integer()),
});

const SettingList = Type.Object({ settings: Type.Array(Setting) });

/**
 * A setting's value or `null` (back to the default), as one JSON-schema type list: a union would let the
 * API's type coercion turn `null` into `0` or `false` before the null branch is tried.
 */
function nullableValue(s: SettingDefinition): TUnsafe<SettingValue | null> {
  if (s.kind === 'boolean') return Type.Unsafe<boolean | null>({ type: ['boolean', 'null'] });
  if (s.kind === 'integer')
    return Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: s.min, maximum: s.max });
  return Type.Unsafe<string[] | null>({
    type: ['array', 'null'],
    items: { type: 'string', minLength: 1, maxLength: 64 },
    maxItems: 1000,
  });
}

/** Every setting optional; `null` removes the operator's value (back to the default). */
const PatchBody = Type.Object(
  Object.fromEntries(SETTINGS.map((s) => [s.key, Type.Optional(nullableValue(s))] as const)) as Record<
    string,
    TOptional<TUnsafe<SettingValue | null>>
  >,
  { additionalProperties: false, minProperties: 1 },
);

export async function settingRoutes(fastify: FastifyInstance, options: SettingRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { prisma, environmentSettings } = options;

  const current = async () => {
    const rows = await prisma.setting.findMany({ select: { id: true, value: true } });
    const stored = new Map(rows.map((row) => [row.id, row.value as unknown]));
    return SETTINGS.map((s) => {
      const fromEnvironment = environmentSettings.get(s.key);
      const fromDatabase = stored.get(s.key);
      // A stored value out of bounds (written by hand) is ignored by sip-core; shown as it applies.
      const databaseValid = fromDatabase !== undefined && settingProblem(s, fromDatabase) === undefined;
      const [value, source] =
        fromEnvironment !== undefined
          ? [fromEnvironment, 'environment' as const]
          : databaseValid
            ? [fromDatabase as SettingValue, 'database' as const]
            : [s.default, 'default' as const];
      return {
        key: s.key,
        description: s.description,
        kind: s.kind,
        default: s.default,
        value,
        source,
        ...(s.variable ? { variable: s.variable } : {}),
        ...(s.min !== undefined ? { min: s.min } : {}),
        ...(s.max !== undefined ? { max: s.max } : {}),
      };
    });
  };

  app.get(
    '/settings',
    {
      config: { roles: ['operator'] },
      schema: {
        tags: ['settings'],
        operationId: 'listSettings',
        summary: 'Operator settings of the SIP side: default, current value and its source (operator)',
        response: { 200: SettingList },
      },
    },
    async () => ({ settings: await current() }),
  );

  app.patch(
    '/settings',
    {
      config: { roles: ['operator'] },
      schema: {
        tags: ['settings'],
        operationId: 'updateSettings',
        summary: 'Change settings live; null resets one to its default (operator)',
        description:
          'Body: `{ "<key>": value | null, ... }`. Every running sip-core applies the change at once. ' +
          'A setting fixed by its environment variable is refused with 409.',
        body: PatchBody,
        response: { 200: SettingList },
      },
    },
    async (request) => {
      const body = request.body;
      const fixed = Object.keys(body).filter((key) => environmentSettings.has(key));
      if (fixed.length > 0) {
        throw conflict(
          'Fixed by the environment; change the variable and restart instead',
          fixed.map((key) => ({
            field: `/body/${key}`,
            message: `fixed by ${settingDefinition(key)?.variable ?? 'the environment'}`,
          })),
        );
      }
      const bad = Object.entries(body).flatMap(([key, value]) => {
        const s = settingDefinition(key);
        const problem = s && value !== null ? settingProblem(s, value) : undefined;
        return problem ? [{ field: `/body/${key}`, message: problem }] : [];
      });
      if (bad.length > 0) throw badRequest('Invalid setting values', bad);

      const before = await current();
      const after = new Map(before.map((s) => [s.key, s.value]));
      for (const [key, value] of Object.entries(body)) {
        after.set(key, value ?? (settingDefinition(key)?.default as SettingValue));
      }
      const clash = settingsConflict(after);
      if (clash) throw badRequest(clash, [{ field: '/body/registrar.minExpires', message: clash }]);

      await prisma.$transaction(async (tx) => {
        for (const [key, value] of Object.entries(body)) {
          if (value === null || value === undefined) await tx.setting.deleteMany({ where: { id: key } });
          else await tx.setting.upsert({ where: { id: key }, create: { id: key, value }, update: { value } });
          await writeAudit(tx, request, {
            action: 'update',
            entity: 'settings',
            entityId: key,
            before: { value: before.find((s) => s.key === key)?.value },
            after: { value: value ?? null },
          });
        }
      });
      request.log.info({ settings: Object.keys(body) }, 'settings changed');
      return { settings: await current() };
    },
  );
}
