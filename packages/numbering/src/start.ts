import type { Database } from '@switchboard/db';
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
  const follower = await followDatabase({ db: deps.db, index, ...(logger ? { logger } : {}) });
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
        await service.close();
        await follower.close();
      },
    };
  } catch (error) {
    await follower.close();
    throw error;
  }
}
