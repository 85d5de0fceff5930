import type { PrismaClient } from '@switchboard/db';
import type { HealthState } from './health.ts';
import type { RegistrationStatus } from './registration.ts';

/** State changes kept per gateway (older ones are pruned on insert). */
export const EVENTS_KEPT = 50;

/**
 * The `peer_gateway_status` row and `peer_gateway_events` history of the gateways, and the lease that
 * makes one node the owner of a gateway (it registers the trunk and writes the status). A lease is a
 * row, not an advisory lock, so it works with embedded PostgreSQL and survives a connection pool:
 * taken when free or expired, renewed by its holder, released on shutdown.
 */
export class GatewayStatusStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly node: string,
  ) {}

  /** Takes or renews the gateway's lease for `ttlMs`; true when this node holds it. */
  async lease(gatewayId: string, ttlMs: number): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ lease_node: string }[]>`
      INSERT INTO peer_gateway_status (gateway_id, lease_node, lease_until, updated_at)
      VALUES (${gatewayId}::uuid, ${this.node}, now() + ${ttlMs} * interval '1 millisecond', now())
      ON CONFLICT (gateway_id) DO UPDATE
        SET lease_node = EXCLUDED.lease_node, lease_until = EXCLUDED.lease_until, updated_at = now()
        WHERE peer_gateway_status.lease_node = EXCLUDED.lease_node
           OR peer_gateway_status.lease_until IS NULL
           OR peer_gateway_status.lease_until < now()
      RETURNING lease_node`;
    return rows.length === 1;
  }

  async release(gatewayId: string): Promise<void> {
    await this.prisma.peerGatewayStatus.updateMany({
      where: { gatewayId, leaseNode: this.node },
      data: { leaseUntil: null },
    });
  }

  async writeRegistration(gatewayId: string, status: RegistrationStatus, changed: boolean): Promise<void> {
    await this.prisma.peerGatewayStatus.updateMany({
      where: { gatewayId },
      data: {
        registration: status.state,
        registrationError: status.lastError,
        registeredAt: status.registeredAt,
        expiresAt: status.expiresAt,
        nextAttemptAt: status.nextAttemptAt,
      },
    });
    if (changed) await this.event(gatewayId, 'registration', status.state, status.lastError);
  }

  async writeHealth(gatewayId: string, health: HealthState, error: string | null): Promise<void> {
    await this.prisma.peerGatewayStatus.updateMany({
      where: { gatewayId },
      data: { health, healthError: error, healthChangedAt: new Date() },
    });
    await this.event(gatewayId, 'health', health, error);
  }

  private async event(gatewayId: string, kind: string, state: string, detail: string | null): Promise<void> {
    await this.prisma.peerGatewayEvent.create({ data: { gatewayId, kind, state, detail } });
    const old = await this.prisma.peerGatewayEvent.findMany({
      where: { gatewayId },
      orderBy: { at: 'desc' },
      skip: EVENTS_KEPT,
      select: { id: true },
    });
    if (old.length > 0)
      await this.prisma.peerGatewayEvent.deleteMany({ where: { id: { in: old.map((e) => e.id) } } });
  }
}
