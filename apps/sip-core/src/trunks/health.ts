import { requestFinal } from '../sip/srf-request.ts';
import type { OutboundRequester } from './register-client.ts';
import type { HealthSettings } from './settings.ts';

export type HealthState = 'unknown' | 'up' | 'down';

/** How long one OPTIONS may wait for an answer before it counts as unanswered. */
const ANSWER_TIMEOUT_MS = 5_000;

/**
 * Sends one OPTIONS (RFC 3261 §11) to a gateway. Alive: any final response but 408 (its own timeout)
 * and 503 (RFC 3261 §21.5.4: the server is overloaded or down for maintenance). Resolves the error
 * text, or null when the gateway answered.
 */
export function pingGateway(
  srf: OutboundRequester,
  target: HealthSettings,
  timeoutMs = ANSWER_TIMEOUT_MS,
): Promise<string | null> {
  return requestFinal(
    srf,
    target.uri,
    { method: 'OPTIONS', proxy: target.proxy, headers: { 'Max-Forwards': '70' } },
    Math.min(timeoutMs, target.intervalMs),
    'no answer to OPTIONS',
  ).then(
    (res) => (res.status === 408 || res.status === 503 ? `${res.status} to OPTIONS` : null),
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

/**
 * The health of one gateway: an OPTIONS every interval; `threshold` unanswered in a row make it
 * `down`, the first answer makes it `up` again. One ping at a time (the next starts after the last
 * ended), so a dead gateway never piles up requests.
 */
export class GatewayHealthCheck {
  private state: HealthState = 'unknown';
  private misses = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  lastError: string | null = null;

  constructor(
    readonly settings: HealthSettings,
    private readonly ping: (target: HealthSettings) => Promise<string | null>,
    private readonly onChange: (state: HealthState, error: string | null) => void,
  ) {}

  get current(): HealthState {
    return this.state;
  }

  start(): void {
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private tick(): void {
    if (this.stopped) return;
    this.ping(this.settings)
      .catch((error: unknown) => String(error))
      .then((error) => {
        if (this.stopped) return;
        this.record(error);
        this.timer = setTimeout(() => this.tick(), this.settings.intervalMs);
        this.timer.unref?.();
      });
  }

  private record(error: string | null): void {
    if (error === null) {
      this.misses = 0;
      this.lastError = null;
      if (this.state !== 'up') this.set('up', null);
      return;
    }
    this.misses++;
    this.lastError = error;
    if (this.state !== 'down' && this.misses >= this.settings.threshold) this.set('down', error);
  }

  private set(state: HealthState, error: string | null): void {
    this.state = state;
    this.onChange(state, error);
  }
}
