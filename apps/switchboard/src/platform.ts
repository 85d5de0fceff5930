import { ensureOperator, startApi } from '@switchboard/api';
import type { Config } from '@switchboard/config';
import { type Database, openDatabase } from '@switchboard/db';
import type { Logger } from 'pino';
import type { Component, ComponentHealth } from './component.ts';
import { prepareDataDir, type Switchboard, startComponents } from './launcher.ts';

export interface PlatformOptions {
  /** Open the database, apply migrations, and start nothing else (`switchboard migrate`). */
  migrateOnly?: boolean;
}

/**
 * The all-in-one platform: the same `start` functions the separate deployables use, composed in one
 * process. Order matters: the database first (everything reads it), the API last (its health endpoint
 * reports on everything started before it).
 */
export async function startPlatform(
  config: Config,
  logger: Logger,
  options: PlatformOptions = {},
): Promise<Switchboard> {
  await prepareDataDir(config);
  let database: Database | undefined;
  // The API reports on every component, itself included, through this late-bound function.
  let platform: Switchboard | undefined;

  const databaseComponent: Component = {
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
      database = db;
      return {
        async health(): Promise<ComponentHealth> {
          try {
            await db.prisma.$queryRaw`SELECT 1`;
            return { status: 'up', detail: db.kind };
          } catch (err) {
            return { status: 'down', detail: (err as Error).message };
          }
        },
        stop: () => db.close(),
      };
    },
  };

  const components: Component[] = [databaseComponent];
  if (!options.migrateOnly) {
    components.push({
      name: 'api',
      async start() {
        const db = requireDatabase(database);
        const operator = await ensureOperator(db.prisma, {
          email: config.adminEmail,
          password: config.adminPassword,
        });
        if (operator.created) announceOperator(operator.email, operator.password, logger);
        const api = await startApi(
          { port: config.apiPort },
          {
            prisma: db.prisma,
            logger: logger.child({ component: 'api' }),
            health: async () => (platform ? platform.health() : {}),
          },
        );
        logger.info({ url: `http://localhost:${api.port}/` }, 'web admin and API listening');
        return { health: () => ({ status: 'up', detail: `port ${api.port}` }), stop: () => api.close() };
      },
    });
  }

  platform = await startComponents(components, logger);
  return platform;
}

function requireDatabase(db: Database | undefined): Database {
  if (!db) throw new Error('the database component must start first');
  return db;
}

/** Printed once, on the start that created the account: the password is stored only as a hash. */
function announceOperator(email: string, password: string | undefined, logger: Logger): void {
  logger.info({ email }, 'operator account created');
  if (password) {
    process.stdout.write(
      `\n  Operator account created. Log in with\n    e-mail:   ${email}\n    password: ${password}\n  ` +
        'This password is shown only once; change it after the first login.\n\n',
    );
  }
}
