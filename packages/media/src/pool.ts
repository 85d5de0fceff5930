import type { Logger } from 'pino';
import type { RtpengineAddress } from './config.ts';
import { MediaError } from './errors.ts';
import { NgClient } from './ng-client.ts';

export interface PoolOptions {
  instances: RtpengineAddress[];
  logger: Logger;
  /** Timeout of one NG request (default 1000 ms). */
  requestTimeoutMs?: number;
  /** Ping period of the health check (default 5000 ms; 0 disables the periodic check). */
  healthIntervalMs?: number;
  /** Random source in [0, 1) for weighted selection (tests make it deterministic). */
  random?: () => number;
}

export interface InstanceHealth {
  address: string;
  weight: number;
  healthy: boolean;
  /** Calls this process has placed on the instance and not yet ended. */
  calls: number;
  lastError?: string;
}

/** One rtpengine of the pool and what we know about it. */
export class RtpengineInstance {
  readonly client: NgClient;
  readonly address: string;
  readonly weight: number;
  healthy = true;
  calls = 0;
  lastError: string | undefined;

  constructor(config: RtpengineAddress, options: { timeoutMs: number; logger: Logger }) {
    this.client = new NgClient({
      host: config.host,
      port: config.port,
      timeoutMs: options.timeoutMs,
      logger: options.logger,
    });
    this.address = this.client.address;
    this.weight = config.weight;
  }
}

/**
 * The rtpengine instances of the platform: which are healthy, which one takes a new call, and which one
 * holds each call (a call never moves: its ports live on the instance that took its offer).
 */
export class RtpenginePool {
  readonly instances: readonly RtpengineInstance[];
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly healthIntervalMs: number;
  private readonly callInstances = new Map<string, RtpengineInstance>();
  private healthTimer: NodeJS.Timeout | undefined;
  private healthRun: Promise<void> | undefined;

  constructor(options: PoolOptions) {
    if (options.instances.length === 0)
      throw new MediaError('invalid-config', 'an rtpengine pool needs an instance');
    const timeoutMs = options.requestTimeoutMs ?? 1000;
    this.logger = options.logger;
    this.instances = options.instances.map(
      (c) => new RtpengineInstance(c, { timeoutMs, logger: options.logger }),
    );
    this.random = options.random ?? Math.random;
    this.healthIntervalMs = options.healthIntervalMs ?? 5000;
  }

  /** Starts the periodic health check (the first check runs at once). */
  start(): void {
    if (this.healthTimer !== undefined || this.healthIntervalMs <= 0) return;
    void this.checkHealth();
    this.healthTimer = setInterval(() => void this.checkHealth(), this.healthIntervalMs);
    this.healthTimer.unref();
  }

  /** Pings every instance once and records the outcome; overlapping calls share one run. */
  checkHealth(): Promise<void> {
    this.healthRun ??= Promise.all(this.instances.map((i) => this.pingInstance(i))).then(() => {
      this.healthRun = undefined;
    });
    return this.healthRun;
  }

  markUnhealthy(instance: RtpengineInstance, reason: string): void {
    if (instance.healthy)
      this.logger.warn({ rtpengine: instance.address, reason }, 'rtpengine marked unhealthy');
    instance.healthy = false;
    instance.lastError = reason;
  }

  markHealthy(instance: RtpengineInstance): void {
    if (!instance.healthy) this.logger.info({ rtpengine: instance.address }, 'rtpengine healthy again');
    instance.healthy = true;
    instance.lastError = undefined;
  }

  /**
   * Instances to try for a new call, in order: healthy ones in weighted random order, then unhealthy ones
   * (a last resort: the health view may be stale).
   */
  candidates(): RtpengineInstance[] {
    const healthy = this.instances.filter((i) => i.healthy);
    const unhealthy = this.instances.filter((i) => !i.healthy);
    return [...this.weightedOrder(healthy), ...this.weightedOrder(unhealthy)];
  }

  instanceFor(callId: string): RtpengineInstance | undefined {
    return this.callInstances.get(callId);
  }

  /** Records that the call lives on `instance` from now on. */
  pin(callId: string, instance: RtpengineInstance): void {
    if (this.callInstances.get(callId) === instance) return;
    this.unpin(callId);
    this.callInstances.set(callId, instance);
    instance.calls += 1;
  }

  unpin(callId: string): void {
    const instance = this.callInstances.get(callId);
    if (instance === undefined) return;
    this.callInstances.delete(callId);
    instance.calls -= 1;
  }

  byAddress(address: string): RtpengineInstance | undefined {
    return this.instances.find((i) => i.address === address);
  }

  health(): InstanceHealth[] {
    return this.instances.map((i) => {
      const entry: InstanceHealth = {
        address: i.address,
        weight: i.weight,
        healthy: i.healthy,
        calls: i.calls,
      };
      if (i.lastError !== undefined) entry.lastError = i.lastError;
      return entry;
    });
  }

  close(): void {
    if (this.healthTimer !== undefined) clearInterval(this.healthTimer);
    this.healthTimer = undefined;
    for (const instance of this.instances) instance.client.close();
  }

  private async pingInstance(instance: RtpengineInstance): Promise<void> {
    try {
      await instance.client.ping();
      this.markHealthy(instance);
    } catch (err) {
      this.markUnhealthy(instance, err instanceof Error ? err.message : String(err));
    }
  }

  /** Weighted random permutation: each pick chooses among the remaining instances by weight. */
  private weightedOrder(list: RtpengineInstance[]): RtpengineInstance[] {
    const remaining = [...list];
    const order: RtpengineInstance[] = [];
    while (remaining.length > 0) {
      const total = remaining.reduce((sum, i) => sum + i.weight, 0);
      let point = this.random() * total;
      let index = remaining.findIndex((i) => {
        point -= i.weight;
        return point < 0;
      });
      if (index < 0) index = remaining.length - 1;
      order.push(...remaining.splice(index, 1));
    }
    return order;
  }
}
