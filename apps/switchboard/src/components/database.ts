import type { Config } from '@switchboard/config';
import { type Database, openDatabase } from '@switchboard/db';
import { databasePoolGauge, type MetricsRegistry } from '@switchboard/metrics';
import type { Logger } from 'pino';
import type { Component, ComponentHealth } from '../component.ts';

/** PostgreSQL from DATABASE_URL, or the embedded PGlite in $DATA_DIR/db; migrated before anything uses it. */
export function databaseComponent(
  config: Config,
  logger: Logger,
  metrics: MetricsRegistry,
  onReady: (db: Database) => void,
): Component {
  return {
    name: 'database',
    async start() {
      const db = await openDatabase({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        log: logger.child({ component: 'database' }),
      });
      try {
        await db.migrate();
      } catch (err) {
        await db.close();
        throw err;
      }
      onReady(db);
      const detachGauge = databasePoolGauge(metrics, db);
      return {
        async health(): Promise<ComponentHealth> {
          try {
            await db.prisma.$queryRaw`SELECT 1`;
            return { status: 'up', detail: db.kind };
          } catch (err) {
            return { status: 'down', detail: (err as Error).message };
          }
        },
        stop: () => {
          detachGauge();
          return db.close();
        },
      };
    },
  };
}
