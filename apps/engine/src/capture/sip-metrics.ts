import { liveGauge, METRIC_NAMES, type MetricsRegistry, sipTrafficMetrics } from '@switchboard/metrics';
import type { TransactionManager } from '@switchboard/sip';
import { cseqMethodOf, type SipMessageObserver } from './observed-transport.ts';

/**
 * Methods outside this list are counted as `other`: the method label comes from the network, and a scanner
 * sending random tokens must not create a series per token.
 */
const KNOWN_METHODS = new Set([
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'PUBLISH',
  'INFO',
  'REFER',
  'MESSAGE',
  'UPDATE',
]);

function methodLabel(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : 'other';
}

/** Counts every SIP request and response the engine receives and sends, by method and status code. */
export function sipTrafficCounter(registry: MetricsRegistry): SipMessageObserver {
  const { requests, responses } = sipTrafficMetrics(registry);
  return ({ direction, message }) => {
    if (message.isRequest) {
      requests.inc({ direction, method: methodLabel(message.method) });
    } else {
      responses.inc({ direction, method: methodLabel(cseqMethodOf(message)), code: String(message.status) });
    }
  };
}

/** Live transactions and connected drachtio apps, read at scrape time. Returns the detach function. */
export function engineStateGauges(
  registry: MetricsRegistry,
  manager: TransactionManager,
  connectedApps: () => number,
): () => void {
  const detach = [
    liveGauge(registry, METRIC_NAMES.sipTransactions, 'SIP transactions in progress', ['kind'], () => {
      const { client, server } = manager.size;
      return [
        { labels: { kind: 'client' }, value: client },
        { labels: { kind: 'server' }, value: server },
      ];
    }),
    liveGauge(registry, METRIC_NAMES.engineApps, 'drachtio-srf apps connected to the engine', [], () =>
      connectedApps(),
    ),
  ];
  return () => {
    for (const d of detach) d();
  };
}
