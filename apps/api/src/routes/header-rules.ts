import {
  compileHeaderRule,
  HEADER_RULE_ACTIONS,
  type HeaderRuleData,
  HeaderRuleError,
} from '@switchboard/numbering';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type ParentSpec, registerCrud } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Description, Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import type { RouteOptions } from './options.ts';
import { all, operatorOnly } from './peering-groups.ts';

/** The rules of a header rule set (docs/sbc.md, "Header rules"): conditions, then one action. */

const Pattern = Type.String({ minLength: 1, maxLength: 256, description: 'Regular expression (RE2-safe)' });

export const RuleProps = {
  priority: Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Rules run in ascending priority' }),
  enabled: Type.Boolean(),
  description: Nullable(Description),
  direction: Nullable(Type.Enum(['inbound', 'outbound'])),
  method: Nullable(Type.String({ minLength: 1, maxLength: 32 })),
  headerName: Nullable(
    Type.String({ minLength: 1, maxLength: 64, description: 'A header that must be present' }),
  ),
  headerPattern: Nullable(Pattern),
  sourceAddress: Nullable(Type.String({ minLength: 1, maxLength: 64, description: 'IP or CIDR (inbound)' })),
  callerPattern: Nullable(Pattern),
  calleePattern: Nullable(Pattern),
  action: Type.Enum([...HEADER_RULE_ACTIONS]),
  targetHeader: Nullable(
    Type.String({
      minLength: 1,
      maxLength: 1024,
      description:
        'The header acted on (a trailing * matches a prefix); keep_headers: a comma-separated list',
    }),
  ),
  matchPattern: Nullable(Pattern),
  value: Nullable(Type.String({ maxLength: 512, description: 'New value; $1.. insert matchPattern groups' })),
};
export const HeaderRule = Type.Object({ id: Uuid, ruleSetId: Uuid, ...RuleProps, ...Timestamps });

const DEFAULTS: Omit<HeaderRuleData, 'action'> = {
  id: 'new',
  priority: 100,
  enabled: true,
  direction: null,
  method: null,
  headerName: null,
  headerPattern: null,
  sourceAddress: null,
  callerPattern: null,
  calleePattern: null,
  targetHeader: null,
  matchPattern: null,
  value: null,
};

/** What is saved is what sip-core can run: the rule compiles, or 400 names the field at fault. */
function checkRule(rule: Partial<HeaderRuleData> & Pick<HeaderRuleData, 'action'>): void {
  try {
    compileHeaderRule({ ...DEFAULTS, ...rule });
  } catch (error) {
    if (!(error instanceof HeaderRuleError)) throw error;
    throw badRequest(`Invalid header rule: ${error.message}`, [
      { field: `/body/${error.field}`, message: error.message },
    ]);
  }
}

export async function headerRuleRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const parent: ParentSpec = {
    param: 'ruleSetId',
    field: 'ruleSetId',
    model: (db) => db.headerRuleSet,
    label: 'Header rule set',
    readScope: all,
  };
  const optional = Object.fromEntries(
    Object.entries(RuleProps)
      .filter(([key]) => key !== 'action')
      .map(([key, schema]) => [key, Type.Optional(schema)]),
  ) as {
    [K in Exclude<keyof typeof RuleProps, 'action'>]: ReturnType<typeof Type.Optional<(typeof RuleProps)[K]>>;
  };
  registerCrud(app, prisma, {
    path: '/header-rule-sets/:ruleSetId/rules',
    entity: 'header-rules',
    singular: 'header rule',
    tag: 'sbc',
    model: (db) => db.headerRule,
    item: HeaderRule,
    parent,
    create: Type.Object({ action: RuleProps.action, ...optional }, { additionalProperties: false }),
    update: Patch(RuleProps),
    list: {
      sortable: ['priority', 'action', 'createdAt'],
      defaultSort: 'priority',
      filters: {
        direction: { type: 'enum', values: ['inbound', 'outbound'] },
        action: { type: 'enum', values: [...HEADER_RULE_ACTIONS] },
        enabled: { type: 'boolean' },
      },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    toCreateData: async (_ctx, body) => {
      checkRule(body as HeaderRuleData);
      return { data: body };
    },
    toUpdateData: async (_ctx, body, existing) => {
      checkRule({ ...(existing as unknown as HeaderRuleData), ...(body as Partial<HeaderRuleData>) });
      return { data: body };
    },
  });
}
