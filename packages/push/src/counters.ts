import type { PushOutcome } from './types.ts';

/** Pushes sent, by provider, purpose and outcome: `GET /metrics` material and the log's companion. */
export class PushCounters {
  private readonly counts = new Map<string, number>();

  count(provider: string, purpose: string, outcome: PushOutcome): void {
    const key = `${provider}\u0000${purpose}\u0000${outcome}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  get(provider: string, purpose: string, outcome: PushOutcome): number {
    return this.counts.get(`${provider}\u0000${purpose}\u0000${outcome}`) ?? 0;
  }

  /** Prometheus text exposition of `switchboard_push_notifications_total`. */
  toPrometheus(): string {
    const lines = [
      '# HELP switchboard_push_notifications_total Push notifications sent, by provider, purpose and outcome.',
      '# TYPE switchboard_push_notifications_total counter',
    ];
    for (const [key, value] of this.counts) {
      const [provider, purpose, outcome] = key.split('\u0000');
      lines.push(
        `switchboard_push_notifications_total{provider="${provider}",purpose="${purpose}",outcome="${outcome}"} ${value}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
}

/**
 * The `result` label of `switchboard_push_notifications_total`: what an operator alerts on. `ok`
 * delivered; `unregistered` APNs 410 / FCM 404; `throttled` 429 (or held back by an earlier
 * Retry-After); `error` everything else (refused locally, no credentials, the service failing).
 */
export function pushResultLabel(outcome: PushOutcome): 'ok' | 'unregistered' | 'throttled' | 'error' {
  switch (outcome) {
    case 'delivered':
      return 'ok';
    case 'unregistered':
      return 'unregistered';
    case 'rate_limited':
      return 'throttled';
    default:
      return 'error';
  }
}
