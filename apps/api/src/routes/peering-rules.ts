import { NumberingError, type PeeringRuleData, validatePeeringRule } from '@switchboard/numbering';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { registerCrud } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Description, Digits, Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import type { RouteOptions } from './options.ts';
import { all, groupParent, operatorOnly } from './peering-groups.ts';

/** Which callee prefixes (and callers) a peering group carries. */

/** Checks a rule as it will be stored: a create body over the defaults, an update body over the row. */
function checkPeeringRule(rule: Pick<PeeringRuleData, 'calleePrefix' | 'callerPattern'>): void {
  try {
    validatePeeringRule(rule);
  } catch (err) {
    if (!(err instanceof NumberingError)) throw err;
    const field = err.code === 'invalid-rule' ? '/body/calleePrefix' : '/body/callerPattern';
    throw badRequest(`Invalid peering rule: ${err.message}`, [{ field, message: err.message }]);
  }
}

const PeeringRuleProps = {
  calleePrefix: Digits(0, 15, 'Normalised callee prefix; empty matches every callee'),
  callerPattern: Nullable(
    Type.String({ minLength: 1, maxLength: 512, description: 'Regular expression on the caller' }),
  ),
  priority: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  enabled: Type.Boolean(),
  description: Nullable(Description),
};
export const PeeringRule = Type.Object({ id: Uuid, groupId: Uuid, ...PeeringRuleProps, ...Timestamps });

export async function peeringRuleRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/peering-groups/:groupId/rules',
    entity: 'peering-rules',
    singular: 'peering rule',
    tag: 'peering',
    model: (db) => db.peeringRule,
    item: PeeringRule,
    parent: groupParent,
    create: Type.Object(
      {
        calleePrefix: Type.Optional(PeeringRuleProps.calleePrefix),
        callerPattern: Type.Optional(PeeringRuleProps.callerPattern),
        priority: Type.Optional(PeeringRuleProps.priority),
        enabled: Type.Optional(PeeringRuleProps.enabled),
        description: Type.Optional(PeeringRuleProps.description),
      },
      { additionalProperties: false },
    ),
    update: Patch(PeeringRuleProps),
    list: {
      sortable: ['calleePrefix', 'priority', 'createdAt'],
      defaultSort: 'calleePrefix,priority',
      filters: { calleePrefix: { type: 'string', op: 'startsWith' }, enabled: { type: 'boolean' } },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    toCreateData: async (_ctx, body) => {
      checkPeeringRule({ calleePrefix: '', callerPattern: null, ...body });
      return { data: body };
    },
    toUpdateData: async (_ctx, body, existing) => {
      checkPeeringRule({ ...existing, ...body });
      return { data: body };
    },
  });
}
