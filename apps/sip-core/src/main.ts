/**
 * Standalone sip-core (production: its own container or systemd unit, attached to the engine).
 * Reads the runtime contract: DATABASE_URL, DRACHTIO_URL (the engine or drachtio-server), RTPENGINE_NG
 * (the rtpengine pool; unset: no media anchoring), LOG_LEVEL; SIP_CORE_NODE_NAME names this node in
 * the location table (default: the host name) and SIP_NONCE_SECRET lets several nodes accept each
 * other's digest nonces; SIP_AUTH_STRICT_URI makes the digest-uri check strict;
 * SIP_TRUSTED_SOURCES, SIP_RATE_LIMIT and SIP_RATE_BURST set the access limits; METRICS_LISTEN serves its
 * Prometheus metrics. SIP_CORE_WORKERS and SIP_CORE_WORKER (1-based) say how many workers attach to
 * this node's engine and which one this is; REDIS_URL (and REDIS_KEY_PREFIX) shares the call counts
 * with the other workers and nodes (docs/scaling.md). The schema must be migrated already (the API
 * does that on start).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startCreditControl } from '@switchboard/api';
import { ConfigError, createLogger, loadConfig } from '@switchboard/config';
import { openDatabase } from '@switchboard/db';
import { resolveMediaConfig } from '@switchboard/media';
import { createMetricsRegistry, databasePoolGauge, startMetricsServer } from '@switchboard/metrics';
import { startDtmfFeedFor } from './calls/dtmf-feed-config.ts';
import { recordingOptionsFrom } from './recording/recording-config.ts';
import { callsFromEnvironment } from './settings.ts';
import { startSipCore } from './start.ts';
import { effectiveWorkers, startWorkerPool } from './workers.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`sip-core: ${err.message}`);
  process.exit(2);
}
if (config.drachtio === undefined) {
  console.error('sip-core: DRACHTIO_URL must name the engine, as in drachtio://secret@127.0.0.1:9022');
  process.exit(2);
}
const logger = createLogger({ app: 'sip-core', level: config.logLevel });
// Several workers share the call counts through Redis; without it this process is the only one.
const workers = effectiveWorkers(config, logger);
const workerIndex = Number(process.env.SIP_CORE_WORKER?.trim() || '1');
if (!Number.isInteger(workerIndex) || workerIndex < 1 || workerIndex > workers) {
  console.error(`sip-core: SIP_CORE_WORKER: expected 1 to SIP_CORE_WORKERS (${workers})`);
  process.exit(2);
}
// Every worker must accept the digest nonces the others issue.
const nonceSecret =
  process.env.SIP_NONCE_SECRET?.trim() || (workers > 1 ? randomBytes(24).toString('hex') : '');
if (nonceSecret !== '' && nonceSecret.length < 16) {
  console.error('sip-core: SIP_NONCE_SECRET: expected at least 16 characters');
  process.exit(2);
}
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log: logger });
const metrics = createMetricsRegistry();
databasePoolGauge(metrics, db);
// No local rtpengine here: in this layout rtpengine is its own service, named by RTPENGINE_NG.
const media =
  config.rtpengineNg === undefined
    ? undefined
    : await resolveMediaConfig(config.rtpengineNg, logger.child({ component: 'media' }));
// Prepaid credit and spend limits of calls to the PSTN: the billing code's credit control (docs/billing.md).
const credit = await startCreditControl(db, logger.child({ component: 'credit' }));
// RTPENGINE_DTMF_LISTEN: rtpengine's DTMF events (RFC 4733 keys become INFO towards dtmfInfo peers).
const dtmfFeed = await startDtmfFeedFor(
  config.rtpengineDtmfListen,
  { index: workerIndex, count: workers },
  logger,
);
const sipCore = await startSipCore(
  {
    drachtio: config.drachtio,
    nodeName: process.env.SIP_CORE_NODE_NAME?.trim() || hostname(),
    worker: { index: workerIndex, count: workers },
    ...(config.redisUrl ? { redis: { url: config.redisUrl, keyPrefix: config.redisKeyPrefix } } : {}),
    // SIP_CLUSTER_NODES: devices registered on other nodes are called through them.
    clusterNodes: config.sipClusterNodes,
    auth: { strictUri: config.sipAuthStrictUri, ...(nonceSecret ? { nonceSecret } : {}) },
    // SIP_TRUSTED_SOURCES, SIP_RATE_LIMIT, SIP_RATE_BURST.
    access: config.sipAccess,
  },
  {
    prisma: db.prisma,
    db,
    logger,
    media: media?.media,
    push: { dataDir: config.dataDir, endpoints: config.push },
    voicemail: { dataDir: config.dataDir, objectStorage: config.objectStorage },
    // Calls are recorded where a relay captures them (docs/pbx.md, "Call recording").
    ...(media
      ? { recording: { ...recordingOptionsFrom(config.dataDir), objectStorage: config.objectStorage } }
      : {}),
    metrics,
    fixedSettings: config.environmentSettings.keys(),
    // PUSH_WAIT_TIMEOUT.
    calls: callsFromEnvironment(config.environmentSettings),
    credit,
    ...(dtmfFeed ? { dtmfFeed } : {}),
  },
);
// METRICS_LISTEN: this process's Prometheus listener (off when unset).
const metricsServer = config.metricsListen
  ? await startMetricsServer(config.metricsListen, metrics, logger)
  : undefined;
// The first worker starts the others (SIP_CORE_WORKERS), each a copy of this program.
const pool =
  workerIndex === 1 && workers > 1
    ? startWorkerPool({
        count: workers,
        entry: fileURLToPath(import.meta.url),
        env: {
          ...process.env,
          SIP_NONCE_SECRET: nonceSecret,
          SIP_CORE_NODE_NAME: sipCore.config.nodeName,
          // One metrics listener per node: this worker's.
          METRICS_LISTEN: '',
        },
        log: logger,
      })
    : undefined;
logger.info(
  {
    engine: `${config.drachtio.host}:${config.drachtio.port}`,
    worker: workerIndex,
    workers,
    pid: process.pid,
  },
  'sip-core running',
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'sip-core stopping');
  await pool?.stop();
  await sipCore.close();
  await credit.stop();
  await dtmfFeed?.close();
  await metricsServer?.close();
  await media?.stop();
  await db.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
