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
 * At most `keepaliveConcurrency` pings are in flight; a binding whose ping is still waiting for
 * its answer (an unanswered OPTIONS takes the engine's 32 s Timer F) is skipped by later rounds,
 * but does not hold them up: one gone device must not stop the keep-alives of all the others.
 */
export class NatKeepalive {
  private timer: NodeJS.Timeout | undefined;
  private readonly failures = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private readonly waitingForSlot: Array<() => void> = [];
  /** Slots taken (pings in flight or about to start). */
  private busy = 0;

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

  /**
   * One round over every NATed UDP binding of this node not already being pinged; resolves when
   * the pings it started are answered or given up.
   */
  async tick(): Promise<void> {
    const targets: Binding[] = [];
    this.location.forEachBinding((b) => {
      if (b.node === this.nodeName && b.transport === 'udp' && isNatted(b)) targets.push(b);
    });
    const seen = new Set(targets.map(keyOf));
    for (const key of this.failures.keys()) if (!seen.has(key)) this.failures.delete(key);
    const pings: Promise<void>[] = [];
    for (const binding of targets) {
      const key = keyOf(binding);
      if (this.inFlight.has(key)) continue;
      await this.slot();
      // Another round may have started this one while we waited for the slot.
      if (this.inFlight.has(key)) {
        this.release();
        continue;
      }
      this.inFlight.add(key);
      pings.push(
        this.ping(binding).finally(() => {
          this.inFlight.delete(key);
          this.release();
        }),
      );
    }
    await Promise.all(pings);
  }

  /** Waits until fewer than `keepaliveConcurrency` slots are taken, and takes one. */
  private slot(): Promise<void> {
    if (this.busy < this.config.keepaliveConcurrency) {
      this.busy++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waitingForSlot.push(resolve));
  }

  /** Gives a slot back: to the next round waiting for one, else free. */
  private release(): void {
    const next = this.waitingForSlot.shift();
    if (next) next();
    else this.busy--;
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
