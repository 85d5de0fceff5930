import { describe, expect, it } from 'vitest';
import {
  counter,
  createMetricsRegistry,
  flushBeforeRead,
  liveGauge,
  METRIC_NAMES,
  sipTrafficMetrics,
  startMetricsServer,
} from '../src/index.ts';

describe('metrics registry', () => {
  it('includes the event-loop lag among the process metrics', async () => {
    const text = await createMetricsRegistry().metrics();
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('leaves the process metrics out of a fallback registry', async () => {
    expect(await createMetricsRegistry({ process: false }).metrics()).not.toContain('nodejs_');
  });

  it('returns the existing counter when a second component defines the same name', () => {
    const registry = createMetricsRegistry();
    const a = sipTrafficMetrics(registry);
    const b = sipTrafficMetrics(registry);
    expect(b.requests).toBe(a.requests);
    expect(counter(registry, 'x_total', 'x')).toBe(counter(registry, 'x_total', 'x'));
  });

  it('adds up the readers of a live gauge at scrape time and forgets a detached one', async () => {
    const registry = createMetricsRegistry();
    let calls = 2;
    const detachA = liveGauge(registry, METRIC_NAMES.callsActive, 'calls', ['state'], () => [
      { labels: { state: 'answered' }, value: calls },
    ]);
    liveGauge(registry, METRIC_NAMES.callsActive, 'calls', ['state'], () => [
      { labels: { state: 'answered' }, value: 1 },
      { labels: { state: 'early' }, value: 4 },
    ]);
    calls = 3;
    let text = await registry.metrics();
    expect(text).toContain('switchboard_calls_active{state="answered"} 4');
    expect(text).toContain('switchboard_calls_active{state="early"} 4');
    detachA();
    text = await registry.metrics();
    expect(text).toContain('switchboard_calls_active{state="answered"} 1');
  });
});

describe('metrics listener', () => {
  it('adds counts kept elsewhere when the counter is read, from every source, once each', async () => {
    const registry = createMetricsRegistry({ process: false });
    const hits = counter(registry, 'test_hits_total', 'test', ['kind']);
    const pending = [
      new Map([['a', 2]]),
      new Map([
        ['a', 1],
        ['b', 5],
      ]),
    ];
    for (const counts of pending)
      flushBeforeRead(hits, () => {
        for (const [kind, n] of counts) hits.inc({ kind }, n);
        counts.clear();
      });
    hits.inc({ kind: 'a' });
    const first = await registry.metrics();
    expect(first).toContain('test_hits_total{kind="a"} 4');
    expect(first).toContain('test_hits_total{kind="b"} 5');
    pending[0]!.set('b', 1);
    const second = await registry.metrics();
    expect(second).toContain('test_hits_total{kind="a"} 4');
    expect(second).toContain('test_hits_total{kind="b"} 6');
  });

  it('serves GET /metrics in the Prometheus text format and 404 elsewhere', async () => {
    const registry = createMetricsRegistry();
    sipTrafficMetrics(registry).requests.inc({ direction: 'in', method: 'INVITE' });
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, registry);
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toContain('switchboard_sip_requests_total{direction="in",method="INVITE"} 1');
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
