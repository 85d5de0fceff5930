import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { applyRewrite, compileRuleSet, NumberingError, REWRITE_VARIABLES } from '@switchboard/numbering';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../auth/authenticate.ts';
import { type CrudContext, IdParams, registerCrud, requireVisible } from '../crud.ts';
import { notFoundField, unprocessable } from '../errors.ts';
import { Description, Name, Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import type { RouteOptions } from './options.ts';
import { RuleProps } from './rewrite-rules.ts';

/** Rewrite rule sets (number rewriting policy of a domain, subscriber or peering group) and their tester. */

export const RewriteRuleSet = Type.Object({
  id: Uuid,
  resellerId: Nullable(Uuid),
  name: Name,
  description: Nullable(Description),
  ...Timestamps,
});

const RewriteVariablesSchema = Type.Object(
  Object.fromEntries(REWRITE_VARIABLES.map((v) => [v, Type.Optional(Type.String({ maxLength: 64 }))])),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: rewrite-rule syntax, not a template
  { additionalProperties: false, description: 'Values for ${variable}s in patterns and replacements' },
);

const RewriteTestResult = Type.Object({
  input: Type.String(),
  output: Type.String(),
  matchedRuleId: Nullable(Type.String()),
  trace: Type.Array(
    Type.Object({
      ruleId: Type.String(),
      priority: Type.Integer(),
      matchPattern: Type.String(),
      replacement: Type.String(),
      evaluated: Type.Boolean({ description: 'False for rules after the first match' }),
      matched: Type.Boolean(),
      before: Type.String(),
      after: Type.String(),
    }),
  ),
});

/** A rule set named in a body must exist and be visible to the caller (404 naming the field). */
export async function checkRuleSet(ctx: CrudContext, id: string | null | undefined): Promise<void> {
  if (id === undefined || id === null) return;
  await requireVisible(
    ctx.tx,
    (db) => db.rewriteRuleSet,
    scopes.rewriteRuleSetRead(ctx.principal),
    id,
    'Rewrite rule set',
    '/body/rewriteRuleSetId',
  );
}

const usingRuleSet = (id: string) => ({ rewriteRuleSetId: id });

export async function rewriteRuleSetRoutes(
  fastify: FastifyInstance,
  { prisma }: RouteOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  registerCrud(app, prisma, {
    path: '/rewrite-rule-sets',
    entity: 'rewrite-rule-sets',
    singular: 'rewrite rule set',
    tag: 'rewriting',
    model: (db) => db.rewriteRuleSet,
    item: RewriteRuleSet,
    create: Type.Object(
      {
        name: Name,
        description: Type.Optional(Nullable(Description)),
        resellerId: Type.Optional(Nullable(Uuid)),
      },
      { additionalProperties: false },
    ),
    update: Patch({ name: Name, description: Nullable(Description) }),
    list: {
      sortable: ['name', 'createdAt'],
      defaultSort: 'name',
      filters: { name: { type: 'string', op: 'contains' }, resellerId: { type: 'string' } },
    },
    readRoles: ['operator', 'reseller'],
    writeRoles: ['operator', 'reseller'],
    readScope: scopes.rewriteRuleSetRead,
    writeScope: scopes.rewriteRuleSetWrite,
    // Its rules go with it; domains, subscribers and peering groups using it would silently lose it.
    dependants: [
      { entity: 'rewrite-rules', model: (db) => db.rewriteRule, where: (id) => ({ ruleSetId: id }) },
      { entity: 'domains', model: (db) => db.domain, where: usingRuleSet, detach: 'rewriteRuleSetId' },
      {
        entity: 'subscribers',
        model: (db) => db.subscriber,
        where: usingRuleSet,
        detach: 'rewriteRuleSetId',
      },
      {
        entity: 'peering-groups',
        model: (db) => db.peeringGroup,
        where: usingRuleSet,
        detach: 'rewriteRuleSetId',
      },
    ],
    toCreateData: async (ctx, body) => {
      const p = ctx.principal;
      let resellerId = body.resellerId ?? null;
      if (p.role === 'reseller') {
        if (body.resellerId !== undefined && body.resellerId !== p.resellerId) {
          throw notFoundField('Reseller', '/body/resellerId');
        }
        resellerId = p.resellerId;
      } else if (resellerId !== null) {
        const r = await ctx.tx.reseller.findUnique({ where: { id: resellerId } });
        if (r === null) throw notFoundField('Reseller', '/body/resellerId');
      }
      return { data: { ...body, resellerId } };
    },
  });

  // --- testers: run the number mapper's own code against the saved configuration ----------------------
  app.post(
    '/rewrite-rule-sets/:id/test',
    {
      config: { roles: ['operator', 'reseller'] },
      schema: {
        tags: ['rewriting'],
        operationId: 'testRewriteRuleSet',
        summary: 'Run a number through a rule set and show which rule matched',
        params: IdParams,
        body: Type.Object(
          {
            direction: RuleProps.direction,
            field: RuleProps.field,
            value: Type.String({ minLength: 1, maxLength: 128 }),
            variables: Type.Optional(RewriteVariablesSchema),
          },
          { additionalProperties: false },
        ),
        response: { 200: RewriteTestResult },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params;
      const body = request.body;
      const set = await requireVisible(
        prisma,
        (db) => db.rewriteRuleSet,
        scopes.rewriteRuleSetRead(principal),
        id,
        'Rewrite rule set',
      );
      const rules = await prisma.rewriteRule.findMany({ where: { ruleSetId: id } });
      let compiled: ReturnType<typeof compileRuleSet>;
      try {
        compiled = compileRuleSet({ id, name: set.name, rules });
      } catch (err) {
        if (err instanceof NumberingError)
          throw unprocessable(`The rule set does not compile: ${err.message}`);
        throw err;
      }
      return applyRewrite(compiled, body.direction, body.field, body.value, body.variables ?? {});
    },
  );
}
