import { METRIC_NAMES } from './catalog.ts';
import { liveGauge, type MetricsRegistry } from './registry.ts';

/** What the database handle tells about its pool (`Database.poolStats` of @switchboard/db). */
export interface PoolStatsSource {
  poolStats?(): { total: number; idle: number; waiting: number };
}

/**
 * The PostgreSQL pool as a gauge: connections open, idle, and queries waiting for one. The embedded
 * database has no pool and reports nothing. Returns the detach function.
 */
export function databasePoolGauge(registry: MetricsRegistry, db: PoolStatsSource): () => void {
  return liveGauge(
    registry,
    METRIC_NAMES.dbPoolConnections,
    'PostgreSQL pool: open and idle connections, and queries waiting for one',
    ['state'],
    () => {
      const stats = db.poolStats?.();
      if (!stats) return [];
      return [
        { labels: { state: 'total' }, value: stats.total },
        { labels: { state: 'idle' }, value: stats.idle },
        { labels: { state: 'waiting' }, value: stats.waiting },
      ];
    },
  );
}
