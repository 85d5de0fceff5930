import { NumberingError, type RewriteRuleData, validateRewriteRule } from '@switchboard/numbering';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type ParentSpec, registerCrud } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Description, Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import type { RouteOptions } from './options.ts';

/** The rules of a rewrite rule set: number rewriting by direction and field. */

/**
 * Rules are checked with the number mapper's own validation (RE2-safe patterns, replacements that only use
 * existing groups and known variables), so that whatever is saved here is what the SIP path can run.
 */
function checkRewriteRule(
  rule: Pick<RewriteRuleData, 'direction' | 'field' | 'matchPattern' | 'replacement'>,
): void {
  try {
    validateRewriteRule(rule);
  } catch (err) {
    if (!(err instanceof NumberingError)) throw err;
    const field = err.code === 'invalid-replacement' ? '/body/replacement' : '/body/matchPattern';
    throw badRequest(`Invalid rewrite rule: ${err.message}`, [{ field, message: err.message }]);
  }
}

export const RuleProps = {
  direction: Type.Enum(['inbound_from_peer', 'outbound_to_peer', 'from_subscriber', 'to_subscriber']),
  field: Type.Enum(['caller', 'callee']),
  matchPattern: Type.String({
    minLength: 1,
    maxLength: 256,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: rewrite-rule syntax, not a template
    description: 'Regular expression (RE2 subset of ECMAScript syntax); may use ${cc}, ${ac}, ... variables',
  }),
  replacement: Type.String({
    maxLength: 256,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: rewrite-rule syntax, not a template
    description: 'Replacement: $1 or ${1} for groups, ${variable} for variables, $$ for a literal $',
  }),
  priority: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  enabled: Type.Boolean(),
  description: Nullable(Description),
};
export const RewriteRule = Type.Object({ id: Uuid, ruleSetId: Uuid, ...RuleProps, ...Timestamps });

export async function rewriteRuleRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const ruleSetParent: ParentSpec = {
    param: 'ruleSetId',
    field: 'ruleSetId',
    model: (db) => db.rewriteRuleSet,
    label: 'Rewrite rule set',
    readScope: scopes.rewriteRuleSetRead,
    writeScope: scopes.rewriteRuleSetWrite,
  };
  registerCrud(app, prisma, {
    path: '/rewrite-rule-sets/:ruleSetId/rules',
    entity: 'rewrite-rules',
    singular: 'rewrite rule',
    tag: 'rewriting',
    model: (db) => db.rewriteRule,
    item: RewriteRule,
    parent: ruleSetParent,
    create: Type.Object(
      {
        direction: RuleProps.direction,
        field: RuleProps.field,
        matchPattern: RuleProps.matchPattern,
        replacement: RuleProps.replacement,
        priority: Type.Optional(RuleProps.priority),
        enabled: Type.Optional(RuleProps.enabled),
        description: Type.Optional(RuleProps.description),
      },
      { additionalProperties: false },
    ),
    update: Patch(RuleProps),
    list: {
      sortable: ['priority', 'direction', 'field', 'createdAt'],
      defaultSort: 'direction,field,priority',
      filters: {
        direction: {
          type: 'enum',
          values: ['inbound_from_peer', 'outbound_to_peer', 'from_subscriber', 'to_subscriber'],
        },
        field: { type: 'enum', values: ['caller', 'callee'] },
        enabled: { type: 'boolean' },
      },
    },
    readRoles: ['operator', 'reseller'],
    writeRoles: ['operator', 'reseller'],
    // The parent check already limits rules to visible (read) or owned (write) rule sets.
    readScope: (p) => (p.role === 'operator' ? {} : { ruleSet: scopes.rewriteRuleSetRead(p) }),
    writeScope: (p) => (p.role === 'operator' ? {} : { ruleSet: scopes.rewriteRuleSetWrite(p) }),
    toCreateData: async (_ctx, body) => {
      checkRewriteRule(body);
      return { data: body };
    },
    toUpdateData: async (_ctx, body, existing) => {
      checkRewriteRule({ ...existing, ...body });
      return { data: body };
    },
  });
}
