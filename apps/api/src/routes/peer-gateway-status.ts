import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { PeerGateway, PeerGatewayStatus, PrismaClient } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { notFound } from '../errors.ts';
import { Nullable, Timestamp, Uuid } from '../schemas.ts';
import { operatorOnly } from './peering-groups.ts';

/**
 * What the node owning a gateway last saw of its trunk registration and health (sip-core writes
 * `peer_gateway_status` on state changes; docs/sbc.md). `disabled` / `off` when the gateway does not
 * register / is not health-checked.
 */
export const StatusSummary = Type.Object({
  registration: Type.Enum(['disabled', 'registering', 'registered', 'failing']),
  registrationError: Nullable(Type.String()),
  registeredAt: Nullable(Timestamp),
  expiresAt: Nullable(Timestamp),
  nextAttemptAt: Nullable(Timestamp),
  health: Type.Enum(['off', 'unknown', 'up', 'down']),
  healthError: Nullable(Type.String()),
  healthChangedAt: Nullable(Timestamp),
  node: Nullable(
    Type.String({ description: 'The sip-core node holding the gateway (registers, writes this)' }),
  ),
});

const GatewayEvent = Type.Object({
  kind: Type.Enum(['registration', 'health']),
  state: Type.String(),
  detail: Nullable(Type.String()),
  at: Timestamp,
});

const GatewayStatusResponse = Type.Object({
  gatewayId: Uuid,
  ...StatusSummary.properties,
  history: Type.Array(GatewayEvent, { description: 'State changes, newest first' }),
});

/** How many state changes the status resource shows. */
const HISTORY = 20;

export function statusSummary(
  gateway: Pick<PeerGateway, 'registerEnabled' | 'healthCheck' | 'enabled'>,
  status: PeerGatewayStatus | null,
) {
  const registers = gateway.enabled && gateway.registerEnabled;
  const checked = gateway.enabled && gateway.healthCheck;
  return {
    registration: registers ? (status?.registration ?? 'registering') : 'disabled',
    registrationError: registers ? (status?.registrationError ?? null) : null,
    registeredAt: registers ? (status?.registeredAt ?? null) : null,
    expiresAt: registers ? (status?.expiresAt ?? null) : null,
    nextAttemptAt: registers ? (status?.nextAttemptAt ?? null) : null,
    health: checked ? (status?.health ?? 'unknown') : 'off',
    healthError: checked ? (status?.healthError ?? null) : null,
    healthChangedAt: checked ? (status?.healthChangedAt ?? null) : null,
    node: status?.leaseNode ?? null,
  } as const;
}

/** GET /peering-groups/:groupId/gateways/:id/status: the summary and the recent state changes. */
export function gatewayStatusRoute(fastify: FastifyInstance, prisma: PrismaClient): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/peering-groups/:groupId/gateways/:id/status',
    {
      config: { roles: operatorOnly },
      schema: {
        tags: ['peering'],
        operationId: 'getGatewayStatus',
        summary: "A gateway's trunk registration and health, with its recent state changes",
        params: Type.Object({ groupId: Uuid, id: Uuid }),
        response: { 200: GatewayStatusResponse },
      },
    },
    async (request) => {
      const { groupId, id } = request.params;
      const gateway = await prisma.peerGateway.findFirst({
        where: { id, groupId },
        include: { status: true, events: { orderBy: { at: 'desc' }, take: HISTORY } },
      });
      if (!gateway) throw notFound('Gateway');
      return {
        gatewayId: gateway.id,
        ...statusSummary(gateway, gateway.status),
        history: gateway.events.map((e) => ({
          kind: e.kind as 'registration' | 'health',
          state: e.state,
          detail: e.detail,
          at: e.at,
        })),
      };
    },
  );
}
