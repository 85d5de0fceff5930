import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per process. The all-in-one launcher hands the same registry to every component,
 * so the API's /metrics shows everything; a standalone component creates its own and serves it itself.
 */
export type MetricsRegistry = Registry;

/**
 * A registry, by default with Node's process metrics (event-loop lag, heap, GC, CPU, handles) under their
 * usual names. Those start monitors that live as long as the process, so a component's fallback registry
 * that nobody scrapes is created without them (`{ process: false }`).
 */
export function createMetricsRegistry(options: { process?: boolean } = {}): MetricsRegistry {
  const registry = new Registry();
  if (options.process !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * The counter `name` of the registry, created on first use. Two components of one process may count into
 * the same series (two engines in a test), so a second definition returns the first instead of failing.
 */
export function counter<L extends string>(
  registry: MetricsRegistry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}

const flushersOf = new WeakMap<Counter, Set<() => void>>();

/**
 * Runs `flush` whenever the counter is read (a scrape, a test's `get()`), for a hot path that counts in
 * plain numbers and hands them over then: prom-client hashes the label set of every `inc()`, which for
 * the SIP message counters was some 1.5 % of the registrar's CPU. Several sources may flush into one
 * counter (two engines of one process).
 */
export function flushBeforeRead<L extends string>(counter: Counter<L>, flush: () => void): void {
  const key = counter as unknown as Counter;
  let flushers = flushersOf.get(key);
  if (!flushers) {
    const all = new Set<() => void>();
    flushers = all;
    flushersOf.set(key, all);
    // prom-client runs a metric's `collect` (a configuration option, read from the instance) before reading it.
    (counter as unknown as { collect: () => void }).collect = () => {
      for (const run of all) run();
    };
  }
  flushers.add(flush);
}

export function histogram<L extends string>(
  registry: MetricsRegistry,
  name: string,
  help: string,
  buckets: number[],
  labelNames: readonly L[] = [],
): Histogram<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Histogram) return existing as Histogram<L>;
  return new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
}

/** One series of a live gauge: label values and the current value. */
export interface GaugeSample<L extends string> {
  labels?: Partial<Record<L, string>>;
  value: number;
}

export type GaugeReader<L extends string> = () => number | GaugeSample<L>[];

const readersOf = new WeakMap<Gauge, Set<GaugeReader<string>>>();

/**
 * A gauge read from live state at scrape time (active calls, bindings, pool sizes): nothing to keep in step
 * on the hot path. Several readers may feed one gauge (one per running instance); their samples add up.
 * Returns the function that detaches the reader, for the instance's close().
 */
export function liveGauge<L extends string>(
  registry: MetricsRegistry,
  name: string,
  help: string,
  labelNames: readonly L[],
  reader: GaugeReader<L>,
): () => void {
  let gauge = registry.getSingleMetric(name) as Gauge<L> | undefined;
  if (!(gauge instanceof Gauge)) {
    const created: Gauge<L> = new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        created.reset();
        for (const read of readersOf.get(created as Gauge) ?? []) {
          const samples = read();
          if (typeof samples === 'number') created.inc(samples);
          else for (const s of samples) created.inc((s.labels ?? {}) as Partial<Record<L, string>>, s.value);
        }
      },
    });
    gauge = created;
    readersOf.set(gauge as Gauge, new Set());
  }
  const readers = readersOf.get(gauge as Gauge) as Set<GaugeReader<string>>;
  const entry = reader as GaugeReader<string>;
  readers.add(entry);
  return () => readers.delete(entry);
}
