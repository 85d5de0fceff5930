import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { CodecPolicyProps, checkCodecPolicy } from '../codec-policy.ts';
import { type CrudContext, registerCrud, requireVisible } from '../crud.ts';
import { badRequest } from '../errors.ts';
import { Nullable, Patch, Timestamps, Uuid } from '../schemas.ts';
import type { RouteOptions } from './options.ts';
import { all, operatorOnly } from './peering-groups.ts';

/**
 * Topology hiding, call admission control and codec policy of one gateway or one peering group
 * (docs/sbc.md). A gateway's call counts for its own and its group's limits; hiding and each codec
 * field are the gateway's choice, else its group's (codecs: else the calling domain's), else the default.
 */

const Limit = (description: string) =>
  Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000, description }));
const PolicyProps = {
  gatewayId: Nullable(Uuid),
  peeringGroupId: Nullable(Uuid),
  topologyHiding: Nullable(
    Type.Boolean({ description: 'null: inherit (gateway from its group; default on)' }),
  ),
  maxConcurrentCalls: Limit('Concurrent calls; null: unlimited'),
  maxCallsPerSecond: Limit('New calls in any one second; null: unlimited'),
  maxCallDuration: Limit('Seconds an answered call may last; null: unlimited'),
  ...CodecPolicyProps,
  dtmfInfo: Nullable(
    Type.Boolean({
      description:
        'The peer sends DTMF as SIP INFO (application/dtmf-relay): played into the call as RFC 4733 events; null: inherit (off)',
    }),
  ),
};
export const PeerPolicy = Type.Object({ id: Uuid, ...PolicyProps, ...Timestamps });

type Target = { gatewayId?: string | null; peeringGroupId?: string | null };

async function checkTarget(ctx: CrudContext, policy: Target): Promise<void> {
  if ((policy.gatewayId == null) === (policy.peeringGroupId == null))
    throw badRequest('A peer policy is for exactly one gateway or one peering group', [
      { field: '/body/gatewayId', message: 'set exactly one of gatewayId and peeringGroupId' },
    ]);
  if (policy.gatewayId)
    await requireVisible(
      ctx.tx,
      (db) => db.peerGateway,
      {},
      policy.gatewayId,
      'Peer gateway',
      '/body/gatewayId',
    );
  if (policy.peeringGroupId)
    await requireVisible(
      ctx.tx,
      (db) => db.peeringGroup,
      {},
      policy.peeringGroupId,
      'Peering group',
      '/body/peeringGroupId',
    );
}

export async function peerPolicyRoutes(app: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  registerCrud(app, prisma, {
    path: '/peer-policies',
    entity: 'peer-policies',
    singular: 'peer policy',
    tag: 'sbc',
    model: (db) => db.peerPolicy,
    item: PeerPolicy,
    create: Type.Object(
      Object.fromEntries(Object.entries(PolicyProps).map(([k, v]) => [k, Type.Optional(v)])) as {
        [K in keyof typeof PolicyProps]: ReturnType<typeof Type.Optional<(typeof PolicyProps)[K]>>;
      },
      { additionalProperties: false },
    ),
    update: Patch(PolicyProps),
    list: {
      sortable: ['createdAt'],
      defaultSort: 'createdAt',
      filters: { gatewayId: { type: 'string' }, peeringGroupId: { type: 'string' } },
    },
    readRoles: operatorOnly,
    writeRoles: operatorOnly,
    readScope: all,
    toCreateData: async (ctx, body) => {
      await checkTarget(ctx, body);
      checkCodecPolicy(body);
      return { data: body };
    },
    toUpdateData: async (ctx, body, existing) => {
      await checkTarget(ctx, { ...(existing as Target), ...body });
      checkCodecPolicy(body, existing as { codecAllow?: string[]; codecStrip?: string[] });
      return { data: body };
    },
  });
}
