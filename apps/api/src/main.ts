/**
 * Standalone API (production: its own container or systemd unit). Reads the runtime contract:
 * DATABASE_URL / DATA_DIR, API_PORT, ADMIN_EMAIL, ADMIN_PASSWORD, LOG_LEVEL; WEB_ROOT optionally names
 * the built web app to serve. It migrates the schema before listening, so an upgrade is: new images,
 * then restart the API first (the other components wait for its health check).
 */
import { ConfigError, createLogger, loadConfig } from '@switchboard/config';
import { openDatabase } from '@switchboard/db';
import { createMetricsRegistry, databasePoolGauge } from '@switchboard/metrics';
import { startApi } from './app.ts';
import { ensureOperator } from './bootstrap.ts';
import { createLimitsOf } from './create-limits.ts';
import { smtpMailer } from './mail.ts';
import { sipConnectionOf } from './sip-connection.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`api: ${err.message}`);
  process.exit(2);
}
const logger = createLogger({ app: 'api', level: config.logLevel });
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log: logger });
await db.migrate();
// Served at GET /metrics on the API port: the process, the database pool and the API itself.
const metrics = createMetricsRegistry();
databasePoolGauge(metrics, db);
const operator = await ensureOperator(db.prisma, {
  email: config.adminEmail,
  password: config.adminPassword,
});
if (operator.created) {
  // Shown once: only the hash is stored. With ADMIN_PASSWORD set, the operator already knows it.
  logger.info({ email: operator.email, password: operator.password }, 'operator account created');
}
const webRoot = process.env.WEB_ROOT?.trim() || undefined;
const api = await startApi(
  { port: config.apiPort, host: process.env.API_HOST?.trim() || '0.0.0.0' },
  {
    prisma: db.prisma,
    logger,
    webRoot,
    push: { dataDir: config.dataDir, endpoints: config.push },
    objectStorage: config.objectStorage,
    limits: { ...config.apiSignIn.limits, ...createLimitsOf(config.apiCreateLimits) },
    cookieSecure: config.apiSignIn.cookieSecure,
    trustedProxies: config.apiSignIn.trustedProxies,
    environmentSettings: config.environmentSettings,
    ...(config.mail.smtpUrl ? { mailer: smtpMailer(config.mail.smtpUrl, config.mail.mailFrom, logger) } : {}),
    ...(config.mail.publicUrl ? { publicUrl: config.mail.publicUrl } : {}),
    // The engine runs elsewhere: its SIP_LISTEN and SIP_ADVERTISED_ADDRESS, given to this process too.
    sipConnection: () => sipConnectionOf(config.sipAdvertisedAddress, config.sipListen),
    metrics,
    health: async () => {
      try {
        await db.prisma.$queryRaw`SELECT 1`;
        return { database: { status: 'up', detail: db.kind } };
      } catch (err) {
        return { database: { status: 'down', detail: (err as Error).message } };
      }
    },
  },
);
logger.info({ address: api.address }, 'api listening');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'api stopping');
  await api.close();
  await db.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
