import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type CrudContext, registerCrud, requireVisible } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import type { RouteOptions } from './options.ts';
import { all, operatorOnly } from './peering-groups.ts';

/**
 * Where a header rule set applies (docs/sbc.md, "Header rules"): one peering group, one gateway or
 * one domain, in one direction. Sets run domain first, then group, then gateway.
 */

const BindingProps = {
  ruleSetId: Uuid,
  direction: Type.Enum(['inbound', 'outbound']),
  peeringGroupId: Nullable(Uuid),
  gatewayId: Nullable(Uuid),
  domainId: Nullable(Uuid),
  priority: Type.Integer({
    minimum: 0,
    maximum: 1_000_000,
    description: 'Sets of one target run in ascending priority',
  }),
};
export const HeaderRuleBinding = Type.Object({ id: Uuid, ...BindingProps, ...Timestamps });

type Target = {
  peeringGroupId?: string | null;
  gatewayId?: string | null;
  domainId?: string | null;
  ruleSetId?: string;
};

/** Exactly one target, and every id names a record that exists (400 naming the field otherwise). */
async function checkTarget(ctx: CrudContext, binding: Target): Promise<void> {
  const set = [binding.peeringGroupId, binding.gatewayId, binding.domainId].filter((v) => v != null);
  if (set.length !== 1)
    throw badRequest('A binding names exactly one of peeringGroupId, gatewayId and domainId', [
      { field: '/body/peeringGroupId', message: 'set exactly one of peeringGroupId, gatewayId, domainId' },
    ]);
  if (binding.ruleSetId)
    await requireVisible(
      ctx.tx,
      (db) => db.headerRuleSet,
      {},
      binding.ruleSetId,
      'Header rule set',
      '/body/ruleSetId',
    );
  if (binding.peeringGroupId)
    await requireVisible(
      ctx.tx,
      (db) => db.peeringGroup,
      {},
      binding.peeringGroupId,
      'Peering group',
      '/body/peeringGroupId',
    );
  if (binding.gatewayId)
    await requireVisible(
      ctx.tx,
      (db) => db.peerGateway,
      {},
      binding.gatewayId,
      'Peer gateway',
      '/body/gatewayId',
    );
  if (binding.domainId)
    await requireVisible(ctx.tx, (db) => db.domain, {}, binding.domainId, 'Domain', '/body/domainId');
}

export async function headerRuleBindingRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/header-rule-bindings',
    entity: 'header-rule-bindings',
    singular: 'header rule binding',
    tag: 'sbc',
    model: (db) => db.headerRuleBinding,
    item: HeaderRuleBinding,
    create: Type.Object(
      {
        ruleSetId: BindingProps.ruleSetId,
        direction: BindingProps.direction,
        peeringGroupId: Type.Optional(BindingProps.peeringGroupId),
        gatewayId: Type.Optional(BindingProps.gatewayId),
        domainId: Type.Optional(BindingProps.domainId),
        priority: Type.Optional(BindingProps.priority),
      },
      { additionalProperties: false },
    ),
    update: Patch(BindingProps),
    list: {
      sortable: ['priority', 'direction', 'createdAt'],
      defaultSort: 'direction,priority',
      filters: {
        ruleSetId: { type: 'string' },
        peeringGroupId: { type: 'string' },
        gatewayId: { type: 'string' },
        domainId: { type: 'string' },
        direction: { type: 'enum', values: ['inbound', 'outbound'] },
      },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    toCreateData: async (ctx, body) => {
      await checkTarget(ctx, body);
      return { data: body };
    },
    toUpdateData: async (ctx, body, existing) => {
      await checkTarget(ctx, { ...(existing as Target), ...body });
      return { data: body };
    },
  });
}
