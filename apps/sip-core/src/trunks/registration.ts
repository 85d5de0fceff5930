/**
 * The refresh and back-off timing of one trunk registration (RFC 3261 §10.2.4: the UA refreshes its
 * binding before the registrar's granted expiry runs out). The REGISTER exchange itself is `send`;
 * this class only decides when to send and what state the trunk is in:
 *
 *   disabled --start--> registering --2xx--> registered --(50-80% of granted expiry)--> registering
 *                              |                  ^
 *                              +--failure--> failing --(back-off: base·2^n, capped)--> registering
 *
 * A failure while registered keeps the old binding's expiry in the status (it may still be valid at
 * the carrier) but the state says `failing` so operators see it at once.
 */

export type RegistrationState = 'disabled' | 'registering' | 'registered' | 'failing';

/** What one REGISTER exchange (with its digest retry) ended in. */
export type RegisterOutcome =
  | { ok: true /** Seconds the registrar granted (Contact `expires` or `Expires`). */; expires: number }
  | { ok: false; error: string };

export interface RegistrationStatus {
  state: RegistrationState;
  lastError: string | null;
  registeredAt: Date | null;
  expiresAt: Date | null;
  nextAttemptAt: Date | null;
}

export interface RegistrationTiming {
  /** First retry delay after a failure, in ms. */
  retryBaseMs: number;
  /** Longest retry delay, in ms. */
  retryMaxMs: number;
  /** Refresh between these fractions of the granted expiry (spread so trunks do not refresh together). */
  refreshFrom: number;
  refreshTo: number;
}

export const DEFAULT_TIMING: RegistrationTiming = {
  retryBaseMs: 2_000,
  retryMaxMs: 300_000,
  refreshFrom: 0.5,
  refreshTo: 0.8,
};

export interface RegistrationDeps {
  send(): Promise<RegisterOutcome>;
  onStatus?(status: RegistrationStatus, previous: RegistrationState): void;
  timing?: Partial<RegistrationTiming>;
  /** A number in [0, 1) choosing where in the refresh window to refresh (default Math.random). */
  random?: () => number;
  now?: () => number;
}

export class TrunkRegistration {
  private status: RegistrationStatus = {
    state: 'disabled',
    lastError: null,
    registeredAt: null,
    expiresAt: null,
    nextAttemptAt: null,
  };
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Bumped by stop(): an exchange that ends after it changes nothing. */
  private generation = 0;
  private readonly timing: RegistrationTiming;

  constructor(private readonly deps: RegistrationDeps) {
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
  }

  get current(): RegistrationStatus {
    return { ...this.status };
  }

  /** Registers now, then keeps the registration refreshed until `stop()`. */
  start(): void {
    if (this.status.state !== 'disabled') return;
    this.failures = 0;
    this.attempt();
  }

  stop(): void {
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.update({ state: 'disabled', nextAttemptAt: null });
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }

  private attempt(): void {
    const generation = this.generation;
    this.timer = undefined;
    if (this.status.state !== 'failing') this.update({ state: 'registering', nextAttemptAt: null });
    this.deps
      .send()
      .catch((error: unknown): RegisterOutcome => ({ ok: false, error: String(error) }))
      .then((outcome) => {
        if (generation === this.generation) this.settle(outcome);
      });
  }

  private settle(outcome: RegisterOutcome): void {
    const now = this.now();
    if (outcome.ok) {
      this.failures = 0;
      const { refreshFrom, refreshTo } = this.timing;
      const fraction = refreshFrom + (refreshTo - refreshFrom) * (this.deps.random ?? Math.random)();
      const delay = Math.max(1_000, Math.floor(outcome.expires * 1000 * fraction));
      this.schedule(delay);
      this.update({
        state: 'registered',
        lastError: null,
        registeredAt: new Date(now),
        expiresAt: new Date(now + outcome.expires * 1000),
        nextAttemptAt: new Date(now + delay),
      });
      return;
    }
    // Exponential back-off, capped; the exponent is bounded so the delay never overflows.
    const delay = Math.min(
      this.timing.retryMaxMs,
      this.timing.retryBaseMs * 2 ** Math.min(this.failures, 20),
    );
    this.failures++;
    this.schedule(delay);
    this.update({ state: 'failing', lastError: outcome.error, nextAttemptAt: new Date(now + delay) });
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.attempt(), delayMs);
    this.timer.unref?.();
  }

  private update(change: Partial<RegistrationStatus>): void {
    const previous = this.status.state;
    this.status = { ...this.status, ...change };
    this.deps.onStatus?.(this.current, previous);
  }
}
