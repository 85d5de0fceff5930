import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';
import { outboundPassword } from '../trunks/settings.ts';

/** What this platform answers a gateway's digest challenge with (we are the UAC, RFC 3261 §22.2). */
export interface GatewayAuth {
  username: string;
  password: string;
}

const SELECT = {
  id: true,
  authUsername: true,
  authPassword: true,
  authPasswordSealed: true,
  authHa1Md5: true,
} as const;

interface Row {
  id: string;
  authUsername: string | null;
  authPassword: string | null;
  authPasswordSealed: string | null;
  authHa1Md5: string | null;
}

/**
 * Every peer gateway's outbound credentials, held in memory so that a call to the PSTN reads no table
 * for them. Loaded at start and kept current from the change feed (`onGatewayChanged`, `peer_gateways`;
 * a deleted peering group's gateways go with it by cascade, each announced); `load()` again after the
 * feed reconnects. A gateway LCR picked that is not held yet (created a moment ago, its change still on
 * the way) is read once, then held. Never logged, never handed out but to the B leg.
 */
export class GatewayCredentials {
  /** null: the gateway has no credentials (or the database has no such gateway). */
  private byId = new Map<string, GatewayAuth | null>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
    /** The platform's sealing key (docs/sbc.md), loaded on first use. */
    private readonly sealingKey: () => Buffer,
  ) {}

  /**
   * The username and password the B leg answers with. The password is stored sealed; a gateway an
   * older version saved with only an HA1 cannot answer a challenge through drachtio-srf (it computes
   * the digest from a password), which is logged so the operator enters the password again.
   */
  private authOf(row: Row): GatewayAuth | null {
    if (!row.authUsername) return null;
    let password: string | null = null;
    try {
      password = outboundPassword(row, this.sealingKey);
    } catch (error) {
      this.log.error({ err: error, gatewayId: row.id }, 'the gateway password does not open with this key');
      return null;
    }
    if (password === null) {
      if (row.authHa1Md5)
        this.log.warn(
          { gatewayId: row.id },
          'gateway has only an HA1 stored; set its password again to answer challenges',
        );
      return null;
    }
    return { username: row.authUsername, password };
  }

  async load(): Promise<void> {
    const rows = await this.prisma.peerGateway.findMany({ select: SELECT });
    this.byId = new Map(rows.map((row) => [row.id, this.authOf(row)]));
    this.log.info({ gateways: rows.length }, 'gateway credentials loaded');
  }

  async onGatewayChanged(id: string | null): Promise<void> {
    if (id === null) return this.load();
    const row = await this.prisma.peerGateway.findUnique({ where: { id }, select: SELECT });
    if (row) this.byId.set(id, this.authOf(row));
    else this.byId.delete(id);
  }

  /** The credentials of those of `ids` that have some, from memory (one read for ids not held yet). */
  async forGateways(ids: readonly string[]): Promise<Map<string, GatewayAuth>> {
    const missing = ids.filter((id) => !this.byId.has(id));
    if (missing.length > 0) {
      const rows = await this.prisma.peerGateway.findMany({ where: { id: { in: missing } }, select: SELECT });
      for (const id of missing) this.byId.set(id, null);
      for (const row of rows) this.byId.set(row.id, this.authOf(row));
    }
    const auth = new Map<string, GatewayAuth>();
    for (const id of ids) {
      const found = this.byId.get(id);
      if (found) auth.set(id, found);
    }
    return auth;
  }
}
