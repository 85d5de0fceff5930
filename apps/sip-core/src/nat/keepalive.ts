import type { Logger } from 'pino';
import type { NatConfig } from '../config.ts';
import { type Binding, isNatted } from '../location/binding.ts';
import type { LocationService } from '../location/location-service.ts';

/** Sends one keep-alive OPTIONS to a binding; resolves true when the device answered at all. */
export type KeepaliveSender = (binding: Binding) => Promise<boolean>;

/**
 * Keeps the NAT mappings of NATed UDP devices open with an OPTIONS every `keepaliveInterval`
 * seconds, sent to the address the device registered from, and removes a binding after
 * `keepaliveMaxFailures` unanswered ones in a row: a device that is gone should not be rung.
 * Only bindings held by this node are pinged (another node's engine owns the others' flows).
 */
export class NatKeepalive {
  private timer: NodeJS.Timeout | undefined;
  private readonly failures = new Map<string, number>();
  private running = false;

  constructor(
    private readonly location: LocationService,
    private readonly send: KeepaliveSender,
    private readonly config: NatConfig,
    private readonly nodeName: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.config.keepaliveInterval === 0 || this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.config.keepaliveInterval * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round over every NATed UDP binding of this node; rounds never overlap. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const targets = [...this.location.all()].filter(
        (b) => b.node === this.nodeName && b.transport === 'udp' && isNatted(b),
      );
      const seen = new Set(targets.map(keyOf));
      for (const key of this.failures.keys()) if (!seen.has(key)) this.failures.delete(key);
      for (let i = 0; i < targets.length; i += this.config.keepaliveConcurrency) {
        const batch = targets.slice(i, i + this.config.keepaliveConcurrency);
        await Promise.all(batch.map((binding) => this.ping(binding)));
      }
    } finally {
      this.running = false;
    }
  }

  private async ping(binding: Binding): Promise<void> {
    const key = keyOf(binding);
    let answered = false;
    try {
      answered = await this.send(binding);
    } catch (error) {
      this.log.debug({ err: error, aor: binding.aor }, 'keep-alive could not be sent');
    }
    if (answered) {
      this.failures.delete(key);
      return;
    }
    const count = (this.failures.get(key) ?? 0) + 1;
    if (count < this.config.keepaliveMaxFailures) {
      this.failures.set(key, count);
      return;
    }
    this.failures.delete(key);
    this.log.info(
      { aor: binding.aor, contact: binding.contactUri, failures: count },
      'binding removed: keep-alives unanswered',
    );
    await this.location.remove(binding.aor, binding.bindingKey).catch((error: unknown) => {
      this.log.warn({ err: error, aor: binding.aor }, 'could not remove unreachable binding');
    });
  }
}

function keyOf(binding: Binding): string {
  return `${binding.aor}\u0000${binding.bindingKey}`;
}
