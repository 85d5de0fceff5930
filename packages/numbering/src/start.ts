import type { Database } from '@switchboard/db';
import { liveGauge, METRIC_NAMES, type MetricsRegistry, numberingReloadMetric } from '@switchboard/metrics';
import type { Logger } from 'pino';
import type { EnumListenAddress } from './enum.ts';
import type { IndexFollower } from './follow.ts';
import { followDatabase } from './follow.ts';
import type { Rng } from './lcr.ts';
import { NumberingIndex } from './numbering-index.ts';
import type { NumberingService } from './service.ts';
import { startNumberingService } from './service.ts';

export interface NumberingConfig {
  /** `NUMBERING_PORT`; 0 picks a free port. */
  port: number;
  /** HTTP bind address (default 127.0.0.1). */
  host?: string;
  /** `ENUM_LISTEN`, as a string or parsed; empty disables ENUM. */
  enumListen: string | EnumListenAddress[];
}

export interface NumberingDeps {
  db: Pick<Database, 'prisma' | 'onChange'>;
  logger?: Logger;
  rng?: Rng;
  /** Index size and reload times go here (the all-in-one launcher shares one registry). */
  metrics?: MetricsRegistry;
}

export interface RunningNumbering {
  /** The live index, for in-process use (sip-core). */
  index: NumberingIndex;
  service: NumberingService;
  follower: IndexFollower;
  close(): Promise<void>;
}

/**
 * The numbering component: loads the index from the database, follows its changes and serves the
 * HTTP lookup API and the ENUM responder. Resolves once the first snapshot is loaded and the
 * listeners are bound. The all-in-one launcher and the standalone `main.ts` both call this.
 */
export async function start(config: NumberingConfig, deps: NumberingDeps): Promise<RunningNumbering> {
  const logger = deps.logger?.child({ component: 'numbering' });
  const index = new NumberingIndex(undefined, deps.rng ? { rng: deps.rng } : {});
  const registry = deps.metrics;
  const reloads = registry ? numberingReloadMetric(registry) : undefined;
  const follower = await followDatabase({
    db: deps.db,
    index,
    ...(logger ? { logger } : {}),
    ...(reloads ? { onReload: (info) => reloads.observe(info.ms / 1000) } : {}),
  });
  const detachGauge = registry
    ? liveGauge(registry, METRIC_NAMES.numberingEntries, 'Entries of the numbering index', ['kind'], () =>
        Object.entries(index.size).map(([kind, value]) => ({ labels: { kind }, value })),
      )
    : () => {};
  try {
    await follower.ready;
    const service = await startNumberingService({
      port: config.port,
      ...(config.host ? { host: config.host } : {}),
      enumListen: config.enumListen,
      index,
      ...(logger ? { logger } : {}),
    });
    return {
      index,
      service,
      follower,
      close: async () => {
        detachGauge();
        await service.close();
        await follower.close();
      },
    };
  } catch (error) {
    detachGauge();
    await follower.close();
    throw error;
  }
}
