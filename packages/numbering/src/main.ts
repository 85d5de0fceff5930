/**
 * Standalone numbering service (production: its own container next to PostgreSQL). Reads the runtime
 * contract: DATABASE_URL / DATA_DIR, NUMBERING_PORT, NUMBERING_HOST, ENUM_LISTEN, LOG_LEVEL, METRICS_LISTEN.
 * The schema must be migrated already (the API or the launcher does that).
 */
import { ConfigError, createLogger, loadConfig } from '@switchboard/config';
import { openDatabase } from '@switchboard/db';
import { createMetricsRegistry, databasePoolGauge, startMetricsServer } from '@switchboard/metrics';
import { start } from './start.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`numbering: ${err.message}`);
  process.exit(2);
}
const logger = createLogger({ app: 'numbering', level: config.logLevel });
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log: logger });
const metrics = createMetricsRegistry();
databasePoolGauge(metrics, db);
const running = await start(
  { port: config.numberingPort, host: config.numberingHost, enumListen: config.enumListen },
  { db, logger, metrics },
);
// METRICS_LISTEN: this process's Prometheus listener (off when unset).
const metricsServer = config.metricsListen
  ? await startMetricsServer(config.metricsListen, metrics, logger)
  : undefined;

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'numbering stopping');
  await running.close();
  await metricsServer?.close();
  await db.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
