import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startCreditControl } from '@switchboard/api';
import { type Config, RUNNING_BUNDLED } from '@switchboard/config';
import type { Database } from '@switchboard/db';
import type { RunningEngine } from '@switchboard/engine';
import type { MediaRelay } from '@switchboard/media';
import type { MetricsRegistry } from '@switchboard/metrics';
import type { NumberingIndex } from '@switchboard/numbering';
import {
  callsFromEnvironment,
  effectiveWorkers,
  type RunningSipCore,
  recordingOptionsFrom,
  SIP_CORE_BUNDLE,
  SIP_CORE_MAIN,
  startDtmfFeedFor,
  startSipCore,
  startWorkerPool,
  type WorkerPool,
} from '@switchboard/sip-core';
import type { Logger } from 'pino';
import type { Component } from '../component.ts';
import { releaseDtmfFeedPorts } from '../dtmf-feed-port.ts';

/**
 * The drachtio-srf application (registrar, access control, calls). It attaches to the embedded engine
 * through an in-process link (the same wire protocol, no socket), or to the external engine named by
 * DRACHTIO_URL over its admin socket, exactly as a separate deployment would.
 * This process is worker 1; with SIP_CORE_WORKERS > 1 (and REDIS_URL and DATABASE_URL: the workers share
 * the call counts and the database) workers 2..N run sip-core's own program as child processes attached
 * to the same engine.
 */
export function sipCoreComponent(
  config: Config,
  logger: Logger,
  metrics: MetricsRegistry,
  database: () => Database,
  engine: () => RunningEngine | undefined,
  shared: () => {
    media: MediaRelay | undefined;
    numbering: NumberingIndex | undefined;
    /** NG addresses of the relay (RTPENGINE_NG for the workers). */
    ngAddresses?: string[] | undefined;
  },
  onReady: (sipCore: RunningSipCore) => void,
): Component {
  return {
    name: 'sip-core',
    async start() {
      const embedded = engine();
      const drachtio = config.drachtio ?? {
        host: connectableHost(embedded?.adminAddress.host ?? config.engineAdmin.host),
        port: embedded?.adminAddress.port ?? config.engineAdmin.port,
        secret: config.engineSecret,
      };
      const db = database();
      // Prepaid credit and spend limits of calls to the PSTN, from the billing code (docs/billing.md).
      const credit = await startCreditControl(db, logger.child({ component: 'credit' }));
      // The media relay and the numbering index started before are shared, not duplicated.
      const { media, numbering, ngAddresses: ng } = shared();
      const ngAddresses = (): string | undefined => ng?.join(',');
      const workers = workerCount(config, logger);
      await releaseDtmfFeedPorts();
      const dtmfFeed = await startDtmfFeedFor(
        config.rtpengineDtmfListen,
        { index: 1, count: workers },
        logger.child({ component: 'sip-core' }),
      );
      // Workers accept each other's digest nonces.
      const nonceSecret = process.env.SIP_NONCE_SECRET?.trim() || randomBytes(24).toString('hex');
      const nodeName = process.env.SIP_CORE_NODE_NAME?.trim();
      const sipCore = await startSipCore(
        {
          drachtio,
          // SIP_CORE_NODE_NAME: this node among several (docs/scaling.md); unset: `sip-core`.
          ...(nodeName ? { nodeName } : {}),
          worker: { index: 1, count: workers },
          ...(config.redisUrl ? { redis: { url: config.redisUrl, keyPrefix: config.redisKeyPrefix } } : {}),
          clusterNodes: config.sipClusterNodes,
          auth: { strictUri: config.sipAuthStrictUri, nonceSecret },
          // SIP_TRUSTED_SOURCES, SIP_RATE_LIMIT, SIP_RATE_BURST.
          access: config.sipAccess,
        },
        {
          prisma: db.prisma,
          db,
          logger: logger.child({ component: 'sip-core' }),
          push: { dataDir: config.dataDir, endpoints: config.push },
          voicemail: { dataDir: config.dataDir, objectStorage: config.objectStorage },
          metrics,
          fixedSettings: config.environmentSettings.keys(),
          // PUSH_WAIT_TIMEOUT.
          calls: callsFromEnvironment(config.environmentSettings),
          ...(media ? { media } : {}),
          ...(numbering ? { numbering } : {}),
          credit,
          ...(dtmfFeed ? { dtmfFeed } : {}),
          // The embedded engine is in this process: worker 1 talks to it without a socket, and REGISTER
          // comes straight from it when worker 1 is the only one.
          ...(embedded && !config.drachtio
            ? { engineLink: () => embedded.linkInProcess(), localEngine: embedded }
            : {}),
          // The local rtpengine captures into $DATA_DIR/recordings (docs/pbx.md, "Call recording").
          ...(media
            ? { recording: { ...recordingOptionsFrom(config.dataDir), objectStorage: config.objectStorage } }
            : {}),
        },
      );
      onReady(sipCore);
      let pool: WorkerPool | undefined;
      if (workers > 1)
        pool = startWorkerPool({
          count: workers,
          ...workerProgram(),
          env: {
            ...process.env,
            DATABASE_URL: config.databaseUrl,
            DRACHTIO_URL: `drachtio://${encodeURIComponent(drachtio.secret)}@${drachtio.host}:${drachtio.port}`,
            RTPENGINE_NG: media ? (ngAddresses() ?? '') : '',
            SIP_NONCE_SECRET: nonceSecret,
            SIP_CORE_NODE_NAME: sipCore.config.nodeName,
            METRICS_LISTEN: '',
            // The feed's first port, chosen by the launcher when unset (dtmf-feed-port.ts).
            ...(config.rtpengineDtmfListen
              ? {
                  RTPENGINE_DTMF_LISTEN: `${config.rtpengineDtmfListen.host}:${config.rtpengineDtmfListen.port}`,
                }
              : {}),
          },
          log: logger.child({ component: 'sip-core-workers' }),
        });
      logger.info(
        { engine: `${drachtio.host}:${drachtio.port}`, workers },
        'sip-core attached to the engine',
      );
      return {
        health: () => {
          const bindings = `${sipCore.location.bindingCount} bindings`;
          const running = 1 + (pool?.pids().length ?? 0);
          return {
            status: 'up',
            detail: workers > 1 ? `${bindings}, ${running} of ${workers} workers` : bindings,
          };
        },
        async stop() {
          await pool?.stop();
          await sipCore.close();
          await credit.stop();
          await dtmfFeed?.close();
        },
      };
    },
  };
}

/**
 * SIP_CORE_WORKERS, when the workers can share what they must: the call counts (REDIS_URL) and the
 * database (DATABASE_URL; the embedded database lives in this one process).
 */
function workerCount(config: Config, logger: Logger): number {
  const workers = effectiveWorkers(config, logger);
  if (workers <= 1 || config.databaseUrl !== undefined) return workers;
  if (process.env.SIP_CORE_WORKERS?.trim())
    logger.warn(
      'SIP_CORE_WORKERS > 1 needs DATABASE_URL (the embedded database is in one process); running one',
    );
  return 1;
}

/** A wildcard bind address is not something to connect to; its loopback is. */
function connectableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/**
 * What workers 2..N run: the compiled sip-core program when this launcher runs compiled (`pnpm start`
 * builds both), else sip-core's sources under the same TypeScript loader as this process.
 */
function workerProgram(): { entry: string; execArgv: string[] } {
  if (RUNNING_BUNDLED) return { entry: fileURLToPath(SIP_CORE_BUNDLE), execArgv: [] };
  return {
    entry: fileURLToPath(SIP_CORE_MAIN),
    execArgv: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href],
  };
}
