import {
  flushBeforeRead,
  liveGauge,
  METRIC_NAMES,
  type MetricsRegistry,
  type SipTrafficMetrics,
  sipTrafficMetrics,
} from '@switchboard/metrics';
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

/**
 * Counts every SIP request and response the engine receives and sends, by method and status code. The
 * counts are kept in plain maps and added to the Prometheus counters when those are read (`flushBeforeRead`):
 * two counts per message, at every message, cost more through prom-client's label hashing.
 */
export function sipTrafficCounter(registry: MetricsRegistry): SipMessageObserver {
  const tally = new TrafficTally();
  const { requests, responses } = sipTrafficMetrics(registry);
  flushBeforeRead(requests, () => tally.flushRequests(requests));
  flushBeforeRead(responses, () => tally.flushResponses(responses));
  return ({ direction, message }) => {
    if (message.isRequest) tally.request(direction, methodLabel(message.method));
    else tally.response(direction, methodLabel(cseqMethodOf(message)), message.status);
  };
}

type Direction = 'in' | 'out';

/** Messages counted since the counters were last read. */
class TrafficTally {
  /** By direction, then method. */
  private readonly requests = { in: new Map<string, number>(), out: new Map<string, number>() };
  /** By direction, then CSeq method, then status code. */
  private readonly responses = {
    in: new Map<string, Map<number, number>>(),
    out: new Map<string, Map<number, number>>(),
  };

  request(direction: Direction, method: string): void {
    const byMethod = this.requests[direction];
    byMethod.set(method, (byMethod.get(method) ?? 0) + 1);
  }

  response(direction: Direction, method: string, status: number): void {
    const byMethod = this.responses[direction];
    let byCode = byMethod.get(method);
    if (byCode === undefined) {
      byCode = new Map();
      byMethod.set(method, byCode);
    }
    byCode.set(status, (byCode.get(status) ?? 0) + 1);
  }

  flushRequests(counter: SipTrafficMetrics['requests']): void {
    for (const direction of DIRECTIONS) {
      const byMethod = this.requests[direction];
      for (const [method, count] of byMethod) counter.inc({ direction, method }, count);
      byMethod.clear();
    }
  }

  flushResponses(counter: SipTrafficMetrics['responses']): void {
    for (const direction of DIRECTIONS) {
      const byMethod = this.responses[direction];
      for (const [method, byCode] of byMethod)
        for (const [code, count] of byCode) counter.inc({ direction, method, code: String(code) }, count);
      byMethod.clear();
    }
  }
}

const DIRECTIONS: readonly Direction[] = ['in', 'out'];

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
