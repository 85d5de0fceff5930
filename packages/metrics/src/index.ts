export {
  METRIC_NAMES,
  numberingReloadMetric,
  type PushMetrics,
  pushMetrics,
  type SipCoreMetrics,
  type SipTrafficMetrics,
  sipCoreMetrics,
  sipTrafficMetrics,
} from './catalog.ts';
export { databasePoolGauge, type PoolStatsSource } from './database.ts';
export {
  counter,
  createMetricsRegistry,
  flushBeforeRead,
  type GaugeReader,
  type GaugeSample,
  histogram,
  liveGauge,
  type MetricsRegistry,
} from './registry.ts';
export { type MetricsServer, renderMetrics, startMetricsServer } from './server.ts';
