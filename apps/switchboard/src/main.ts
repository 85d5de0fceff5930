import { ConfigError, loadConfig } from '@switchboard/config';
import { launcherEnv } from './launcher-env.ts';
import { createLogger } from './logger.ts';

const USAGE = `usage: switchboard <command>

commands:
  start     run every component in one process (database, engine, sip-core, numbering, api)
  migrate   apply pending database migrations and exit
  help      show this text

Configuration comes from environment variables; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? 'help';
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  if (command !== 'start' && command !== 'migrate') {
    console.error(`switchboard: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(launcherEnv(process.env));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`switchboard: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);

  // Loaded only after the configuration is valid: a typo in .env is reported at once, without first
  // loading every component.
  const { startPlatform } = await import('./platform.ts');
  const platform = await startPlatform(config, logger, { migrateOnly: command === 'migrate' });
  if (command === 'migrate') {
    await platform.stop();
    return 0;
  }

  // Stop cleanly on the first signal; a second one while stopping forces the exit.
  await new Promise<void>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        logger.warn({ signal }, 'second signal while stopping, exiting now');
        process.exit(1);
      }
      signalled = true;
      logger.info({ signal }, 'stopping');
      platform.stop().then(resolve, (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  logger.info('stopped');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error('switchboard: start-up failed:', err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
