import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { buildLcrTable, selectRoutes } from '@switchboard/numbering';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type ParentSpec, registerCrud } from '../crud.ts';
import { Description, Name, Nullable, Patch, Timestamps, TransportEnum, Uuid } from '../schemas.ts';
import type { Principal } from '../types.ts';
import { checkBillingProfile } from './billing-profiles.ts';
import type { RouteOptions } from './options.ts';
import { checkRuleSet } from './rewrite-rule-sets.ts';

/** PSTN peering groups and the least-cost-routing tester; gateways and rules belong to a group. */

const GroupProps = {
  name: Name,
  description: Nullable(Description),
  priority: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  enabled: Type.Boolean(),
  rewriteRuleSetId: Nullable(Uuid),
  costProfileId: Nullable(
    Type.String({ format: 'uuid', description: 'Cost billing profile of the carrier' }),
  ),
};
export const PeeringGroup = Type.Object({ id: Uuid, ...GroupProps, ...Timestamps });

const LcrTestResult = Type.Object({
  callee: Type.String(),
  caller: Nullable(Type.String()),
  routes: Type.Array(
    Type.Object({
      gatewayId: Uuid,
      gatewayName: Type.String(),
      groupId: Uuid,
      groupName: Type.String(),
      host: Type.String(),
      port: Type.Integer(),
      transport: TransportEnum,
      ruleId: Uuid,
      calleePrefix: Type.String(),
    }),
    { description: 'Gateways in failover order' },
  ),
  rejectedRules: Type.Array(Type.Object({ ruleId: Type.String(), reason: Type.String() }), {
    description: 'Rules the router ignores (e.g. an unsafe caller pattern saved before validation existed)',
  }),
});

export const operatorOnly = ['operator'] as const;
export const all = (_p: Principal) => ({});

/** Gateways and rules live under a peering group, which only the operator sees. */
export const groupParent: ParentSpec = {
  param: 'groupId',
  field: 'groupId',
  model: (db) => db.peeringGroup,
  label: 'Peering group',
  readScope: all,
};

export async function peeringGroupRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  registerCrud(app, prisma, {
    path: '/peering-groups',
    entity: 'peering-groups',
    singular: 'peering group',
    tag: 'peering',
    model: (db) => db.peeringGroup,
    item: PeeringGroup,
    create: Type.Object(
      {
        name: Name,
        description: Type.Optional(GroupProps.description),
        priority: Type.Optional(GroupProps.priority),
        enabled: Type.Optional(GroupProps.enabled),
        rewriteRuleSetId: Type.Optional(GroupProps.rewriteRuleSetId),
        costProfileId: Type.Optional(GroupProps.costProfileId),
      },
      { additionalProperties: false },
    ),
    update: Patch(GroupProps),
    list: {
      sortable: ['name', 'priority', 'createdAt'],
      defaultSort: 'priority,name',
      filters: { name: { type: 'string', op: 'contains' }, enabled: { type: 'boolean' } },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    dependants: [
      { entity: 'peer-gateways', model: (db) => db.peerGateway, where: (id) => ({ groupId: id }) },
      { entity: 'peering-rules', model: (db) => db.peeringRule, where: (id) => ({ groupId: id }) },
    ],
    toCreateData: async (ctx, body) => {
      await checkRuleSet(ctx, body.rewriteRuleSetId);
      await checkBillingProfile(ctx, body.costProfileId, 'cost', '/body/costProfileId');
      return { data: body };
    },
    toUpdateData: async (ctx, body) => {
      await checkRuleSet(ctx, body.rewriteRuleSetId);
      await checkBillingProfile(ctx, body.costProfileId, 'cost', '/body/costProfileId');
      return { data: body };
    },
  });

  app.post(
    '/peering-groups/test-route',
    {
      config: { roles: operatorOnly },
      schema: {
        tags: ['peering'],
        operationId: 'testRoute',
        summary: 'Least-cost routing: which gateways a call to this number would try, in order',
        description: 'Gateways of equal priority are ordered by a weighted random draw, as for a real call.',
        body: Type.Object(
          {
            callee: Type.String({ pattern: '^\\+?[0-9]{1,15}$', description: 'E.164 number, + optional' }),
            caller: Type.Optional(Type.String({ pattern: '^\\+?[0-9]{1,15}$' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: LcrTestResult },
      },
    },
    async (request) => {
      const body = request.body;
      const callee = body.callee.replace(/^\+/, '');
      const caller = body.caller === undefined ? null : body.caller.replace(/^\+/, '');
      const [groups, gateways, rules] = await Promise.all([
        prisma.peeringGroup.findMany(),
        prisma.peerGateway.findMany(),
        prisma.peeringRule.findMany(),
      ]);
      const table = buildLcrTable({
        peeringGroups: groups.map((g) => ({ ...g, rewriteRuleSetId: null })),
        gateways,
        peeringRules: rules,
      });
      return { callee, caller, routes: selectRoutes(table, callee, caller), rejectedRules: table.rejected };
    },
  );
}
