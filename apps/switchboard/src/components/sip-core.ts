import type { Config } from '@switchboard/config';
import type { Database } from '@switchboard/db';
import type { RunningEngine } from '@switchboard/engine';
import type { MediaRelay } from '@switchboard/media';
import type { MetricsRegistry } from '@switchboard/metrics';
import type { NumberingIndex } from '@switchboard/numbering';
import { callsFromEnvironment, type RunningSipCore, startSipCore } from '@switchboard/sip-core';
import type { Logger } from 'pino';
import type { Component } from '../component.ts';

/**
 * The drachtio-srf application (registrar, access control, calls). It attaches to the embedded engine's
 * admin listener, or to the external engine named by DRACHTIO_URL, exactly as a separate deployment would.
 */
export function sipCoreComponent(
  config: Config,
  logger: Logger,
  metrics: MetricsRegistry,
  database: () => Database,
  engine: () => RunningEngine | undefined,
  shared: () => { media: MediaRelay | undefined; numbering: NumberingIndex | undefined },
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
      // The media relay and the numbering index started before are shared, not duplicated.
      const { media, numbering } = shared();
      const sipCore = await startSipCore(
        // SIP_TRUSTED_SOURCES, SIP_RATE_LIMIT, SIP_RATE_BURST.
        { drachtio, auth: { strictUri: config.sipAuthStrictUri }, access: config.sipAccess },
        {
          prisma: db.prisma,
          db,
          logger: logger.child({ component: 'sip-core' }),
          push: { dataDir: config.dataDir, endpoints: config.push },
          metrics,
          fixedSettings: config.environmentSettings.keys(),
          // PUSH_WAIT_TIMEOUT.
          calls: callsFromEnvironment(config.environmentSettings),
          ...(media ? { media } : {}),
          ...(numbering ? { numbering } : {}),
        },
      );
      onReady(sipCore);
      logger.info({ engine: `${drachtio.host}:${drachtio.port}` }, 'sip-core attached to the engine');
      return {
        health: () => ({ status: 'up', detail: `${[...sipCore.location.all()].length} bindings` }),
        stop: () => sipCore.close(),
      };
    },
  };
}

/** A wildcard bind address is not something to connect to; its loopback is. */
function connectableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}
