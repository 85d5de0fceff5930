import type { PushResult } from '@switchboard/push';
import type { Logger } from 'pino';
import type { Binding } from '../location/binding.ts';
import type { LocationService } from '../location/location-service.ts';

export interface PushRefresherOptions {
  nodeName: string;
  /** Milliseconds between scans of the location table. */
  intervalMs: number;
  log: Logger;
  now?: () => number;
}

/**
 * RFC 8599: a device that asked for `+sip.pnsreg` does not refresh by itself (it is
 * suspended); when its binding is `pnRefresh` seconds from expiry and no refresh came, the registrar
 * pushes it so that it wakes and re-registers. Each binding held by this node is pushed once per
 * expiry time: a refresh moves the expiry and arms the next push.
 */
export class PushRefresher {
  private readonly pushed = new Map<string, number>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;

  constructor(
    private readonly location: Pick<LocationService, 'forEachBinding'>,
    private readonly push: { refresh(binding: Binding): Promise<PushResult> },
    private readonly options: PushRefresherOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      // A scan still sending its pushes is not overtaken by the next one.
      if (this.scanning) return;
      this.scanning = this.scan().finally(() => {
        this.scanning = undefined;
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.scanning;
  }

  /** Pushes every due binding once; resolves when their pushes are answered. */
  async scan(): Promise<void> {
    const now = this.now();
    const due: Binding[] = [];
    const seen = new Set<string>();
    this.location.forEachBinding((binding) => {
      if (binding.node !== this.options.nodeName || !binding.pnRefresh || !binding.pnPrid) return;
      const id = `${binding.aor}\u0000${binding.bindingKey}`;
      seen.add(id);
      if (this.pushed.get(id) === binding.expiresAt) return;
      if (binding.expiresAt - binding.pnRefresh * 1000 > now || binding.expiresAt <= now) return;
      this.pushed.set(id, binding.expiresAt);
      due.push(binding);
    });
    // Bindings that are gone need no memory of their last push.
    for (const id of this.pushed.keys()) if (!seen.has(id)) this.pushed.delete(id);
    await Promise.all(
      due.map(async (binding) => {
        const result = await this.push.refresh(binding);
        this.options.log.info(
          { aor: binding.aor, outcome: result.outcome, expiresAt: new Date(binding.expiresAt).toISOString() },
          'refresh push',
        );
      }),
    );
  }
}
