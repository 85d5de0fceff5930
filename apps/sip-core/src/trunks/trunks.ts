import type { PrismaClient } from '@switchboard/db';
import type { PeerSource } from '@switchboard/numbering';
import type { Logger } from 'pino';
import { GatewayHealthCheck, type HealthState, pingGateway } from './health.ts';
import { type OutboundRequester, RegisterClient } from './register-client.ts';
import { type RegistrationTiming, TrunkRegistration } from './registration.ts';
import {
  GATEWAY_SELECT,
  type GatewayRow,
  healthSettings,
  type TrunkSettings,
  trunkSettings,
} from './settings.ts';
import { GatewayStatusStore } from './status-store.ts';

export interface TrunkOptions {
  /** How long a node's lease on a gateway lasts, and how often its holder renews it (ms). */
  leaseTtlMs: number;
  leaseRenewMs: number;
  /** How long a REGISTER or OPTIONS waits for its answer (ms). */
  answerTimeoutMs: number;
  timing?: Partial<RegistrationTiming>;
}

export const DEFAULT_TRUNK_OPTIONS: TrunkOptions = {
  leaseTtlMs: 30_000,
  leaseRenewMs: 10_000,
  answerTimeoutMs: 10_000,
};

type Row = GatewayRow & { name: string; group: { id: string; name: string; enabled: boolean } };

interface Trunk {
  settings: TrunkSettings;
  peer: PeerSource;
  key: string;
  registration?: TrunkRegistration;
  /** Status writes of this gateway, one after the other. */
  writes: Promise<void>;
}

interface Health {
  check: GatewayHealthCheck;
  key: string;
}

/**
 * The peer gateways' trunk registrations and health checks on this node. Every node pings every
 * gateway with a health check (its own view decides what its LCR skips, no database read per call);
 * the node holding a gateway's lease registers its trunk and writes its status and history. Calls
 * the carrier sends to a registered contact (`sip:{contactUser}@...`) come from that gateway.
 */
export class TrunkManager {
  private rows = new Map<string, Row>();
  private readonly trunks = new Map<string, Trunk>();
  private readonly health = new Map<string, Health>();
  private readonly byContact = new Map<string, PeerSource>();
  private readonly held = new Set<string>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Nothing is sent before start() (the engine connection is up by then). */
  private started = false;
  private readonly store: GatewayStatusStore;
  private readonly options: TrunkOptions;

  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      srf: OutboundRequester;
      node: string;
      sealingKey: () => Buffer;
      log: Logger;
      options?: Partial<TrunkOptions>;
    },
  ) {
    this.store = new GatewayStatusStore(deps.prisma, deps.node);
    this.options = { ...DEFAULT_TRUNK_OPTIONS, ...deps.options };
  }

  /** Loads every gateway and starts what it configures; leases are renewed from then on. */
  async start(): Promise<void> {
    this.started = true;
    await this.load();
    await this.renewLeases();
  }

  async load(): Promise<void> {
    const rows = await this.deps.prisma.peerGateway.findMany({ select: this.select() });
    this.rows = new Map(rows.map((row) => [row.id, row]));
    for (const id of new Set([...this.trunks.keys(), ...this.health.keys()]))
      if (!this.rows.has(id)) this.reconcile(id);
    for (const id of this.rows.keys()) this.reconcile(id);
  }

  /** From the change feed (`peer_gateways`): restart what the change touched. */
  async onGatewayChanged(id: string | null): Promise<void> {
    if (id === null) return this.load();
    const row = await this.deps.prisma.peerGateway.findUnique({ where: { id }, select: this.select() });
    if (row) this.rows.set(id, row);
    else this.rows.delete(id);
    this.reconcile(id);
    if (row && this.trunks.has(id)) await this.renewLease(id);
  }

  /** A gateway its health check marks down: LCR skips it until it answers again. */
  isDown(gatewayId: string): boolean {
    return this.health.get(gatewayId)?.check.current === 'down';
  }

  /** The gateway whose registered contact user `user` is, for a request to that contact. */
  identifyContact(user: string): PeerSource | null {
    return this.byContact.get(user) ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.leaseTimer);
    for (const health of this.health.values()) health.check.stop();
    const held = [...this.held];
    // Not written as `disabled`: the trunk stays configured, and the next owner registers it.
    this.held.clear();
    for (const trunk of this.trunks.values()) trunk.registration?.stop();
    await Promise.all([...this.trunks.values()].map((t) => t.writes));
    // Released, another node takes over at once; the carrier's binding stays until it expires.
    await Promise.all(held.map((id) => this.store.release(id).catch(() => undefined)));
  }

  private select() {
    return {
      ...GATEWAY_SELECT,
      name: true,
      group: { select: { id: true, name: true, enabled: true } },
    } as const;
  }

  private reconcile(id: string): void {
    const row = this.rows.get(id);
    this.reconcileTrunk(id, row);
    this.reconcileHealth(id, row);
  }

  private reconcileTrunk(id: string, row: Row | undefined): void {
    let settings: TrunkSettings | null = null;
    if (row?.group.enabled) {
      try {
        settings = trunkSettings(row, this.deps.sealingKey);
      } catch (error) {
        this.deps.log.error(
          { err: error, gatewayId: id },
          'the trunk password does not open; not registering',
        );
      }
    }
    const key = settings ? JSON.stringify(settings) : '';
    const old = this.trunks.get(id);
    if (old && old.key === key) return;
    if (old) {
      this.byContact.delete(old.settings.contactUser);
      this.stopTrunk(id, old);
    }
    if (!settings || !row) return;
    const peer: PeerSource = {
      gatewayId: id,
      gatewayName: row.name,
      groupId: row.group.id,
      groupName: row.group.name,
      matched: `contact:${settings.contactUser}`,
    };
    this.trunks.set(id, { settings, peer, key, writes: Promise.resolve() });
    this.byContact.set(settings.contactUser, peer);
    if (this.held.has(id)) this.startTrunk(id);
  }

  private startTrunk(id: string): void {
    const trunk = this.trunks.get(id);
    if (!trunk || trunk.registration || this.closed || !this.started) return;
    const client = new RegisterClient(this.deps.srf, trunk.settings, this.options.answerTimeoutMs);
    trunk.registration = new TrunkRegistration({
      send: () => client.register(),
      ...(this.options.timing ? { timing: this.options.timing } : {}),
      onStatus: (status, previous) => {
        if (status.state !== previous)
          this.deps.log.info(
            { gatewayId: id, state: status.state, error: status.lastError },
            'trunk registration',
          );
        // Only the lease holder writes: a node that lost the lease stops without overwriting the new owner.
        if (this.held.has(id))
          this.write(trunk, () => this.store.writeRegistration(id, status, status.state !== previous));
      },
    });
    trunk.registration.start();
  }

  private stopTrunk(id: string, trunk: Trunk): void {
    this.trunks.delete(id);
    if (!trunk.registration) return;
    trunk.registration.stop();
    // Removing the binding (Expires: 0, RFC 3261 §10.2.2) is best effort: the carrier expires it anyway.
    new RegisterClient(this.deps.srf, trunk.settings, this.options.answerTimeoutMs)
      .register(0)
      .catch(() => undefined);
  }

  private write(trunk: Trunk, work: () => Promise<void>): void {
    trunk.writes = trunk.writes
      .then(work)
      .catch((error: unknown) =>
        this.deps.log.error(
          { err: error, gatewayId: trunk.settings.gatewayId },
          'writing the gateway status failed',
        ),
      );
  }

  private reconcileHealth(id: string, row: Row | undefined): void {
    const settings = row?.group.enabled ? healthSettings(row) : null;
    const key = settings ? JSON.stringify(settings) : '';
    const old = this.health.get(id);
    if (old && old.key === key) return;
    old?.check.stop();
    this.health.delete(id);
    if (!settings || this.closed || !this.started) return;
    const check = new GatewayHealthCheck(
      settings,
      (target) => pingGateway(this.deps.srf, target, this.options.answerTimeoutMs),
      (state, error) => this.healthChanged(id, state, error),
    );
    this.health.set(id, { check, key });
    check.start();
  }

  private healthChanged(id: string, state: HealthState, error: string | null): void {
    this.deps.log.info({ gatewayId: id, health: state, error }, 'gateway health');
    if (!this.held.has(id)) return;
    this.store
      .writeHealth(id, state, error)
      .catch((e: unknown) =>
        this.deps.log.error({ err: e, gatewayId: id }, 'writing the gateway health failed'),
      );
  }

  /** Every gateway with a registration or a health check has an owner; this node takes free ones. */
  private async renewLeases(): Promise<void> {
    const ids = [...this.rows.keys()].filter((id) => this.trunks.has(id) || this.health.has(id));
    for (const id of this.held) if (!ids.includes(id)) this.held.delete(id);
    await Promise.all(ids.map((id) => this.renewLease(id)));
    if (this.closed) return;
    this.leaseTimer = setTimeout(() => {
      this.renewLeases().catch((error: unknown) =>
        this.deps.log.error({ err: error }, 'renewing gateway leases failed'),
      );
    }, this.options.leaseRenewMs);
    this.leaseTimer.unref();
  }

  private async renewLease(id: string): Promise<void> {
    let holds = false;
    try {
      holds = await this.store.lease(id, this.options.leaseTtlMs);
    } catch (error) {
      this.deps.log.warn({ err: error, gatewayId: id }, 'gateway lease not renewed');
    }
    if (this.closed) return;
    const had = this.held.has(id);
    if (holds) this.held.add(id);
    else this.held.delete(id);
    if (holds && !had) {
      const health = this.health.get(id)?.check;
      if (health && health.current !== 'unknown') this.healthChanged(id, health.current, health.lastError);
      this.startTrunk(id);
    } else if (!holds && had) {
      const trunk = this.trunks.get(id);
      trunk?.registration?.stop();
      if (trunk) trunk.registration = undefined;
    }
  }
}
