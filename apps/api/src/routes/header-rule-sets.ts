import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { applyHeaderRules, compileHeaderRules, type HeaderRuleData } from '@switchboard/numbering';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { IdParams, registerCrud, requireVisible } from '../crud.ts';
import { Description, Name, Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import type { RouteOptions } from './options.ts';
import { all, operatorOnly } from './peering-groups.ts';

/**
 * Header rule sets of the session border controller (docs/sbc.md, "Header rules"), and the tester
 * that shows a sample request before and after a set's rules. Peers are the operator's: so are these.
 */

const SetProps = { name: Name, description: Nullable(Description) };
export const HeaderRuleSet = Type.Object({ id: Uuid, ...SetProps, ...Timestamps });

const Header = Type.Tuple([Type.String({ minLength: 1, maxLength: 64 }), Type.String({ maxLength: 1024 })]);
const SampleMessage = Type.Object(
  {
    method: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z]+$' }),
    requestUri: Type.String({ minLength: 1, maxLength: 512 }),
    headers: Type.Array(Header, { maxItems: 100, description: 'Headers in order, as [name, value]' }),
  },
  { additionalProperties: false },
);

const TestBody = Type.Object(
  {
    direction: Type.Enum(['inbound', 'outbound']),
    message: SampleMessage,
    sourceAddress: Type.Optional(Type.String({ maxLength: 64, description: 'Inbound: the peer address' })),
    caller: Type.Optional(Type.String({ maxLength: 64 })),
    callee: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

const TestResult = Type.Object({
  before: SampleMessage,
  after: SampleMessage,
  steps: Type.Array(Type.Object({ ruleId: Uuid, matched: Type.Boolean() }), {
    description: 'Every enabled rule in order, and whether its conditions held',
  }),
});

export async function headerRuleSetRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  registerCrud(app, prisma, {
    path: '/header-rule-sets',
    entity: 'header-rule-sets',
    singular: 'header rule set',
    tag: 'sbc',
    model: (db) => db.headerRuleSet,
    item: HeaderRuleSet,
    create: Type.Object(
      { name: Name, description: Type.Optional(SetProps.description) },
      { additionalProperties: false },
    ),
    update: Patch(SetProps),
    list: {
      sortable: ['name', 'createdAt'],
      defaultSort: 'name',
      filters: { name: { type: 'string', op: 'contains' } },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    dependants: [
      { entity: 'header-rules', model: (db) => db.headerRule, where: (id) => ({ ruleSetId: id }) },
      {
        entity: 'header-rule-bindings',
        model: (db) => db.headerRuleBinding,
        where: (id) => ({ ruleSetId: id }),
      },
    ],
    toCreateData: async (_ctx, body) => ({ data: body }),
  });

  app.post(
    '/header-rule-sets/:id/test',
    {
      config: { roles: operatorOnly },
      schema: {
        tags: ['sbc'],
        operationId: 'testHeaderRuleSet',
        summary: "A sample request before and after this set's rules",
        description: 'Runs the enabled rules exactly as sip-core does; nothing is sent or saved.',
        params: IdParams,
        body: TestBody,
        response: { 200: TestResult },
      },
    },
    async (request) => {
      const { id } = request.params;
      await requireVisible(prisma, (db) => db.headerRuleSet, {}, id, 'Header rule set');
      const rows = await prisma.headerRule.findMany({ where: { ruleSetId: id } });
      // Saved rules passed the same compilation (header-rules.ts), so this does not throw for them.
      const rules = compileHeaderRules(rows as HeaderRuleData[]);
      const body = request.body;
      const { message, steps } = applyHeaderRules(rules, body.message, {
        direction: body.direction,
        sourceAddress: body.sourceAddress,
        caller: body.caller,
        callee: body.callee,
      });
      return { before: body.message, after: message, steps };
    },
  );
}
