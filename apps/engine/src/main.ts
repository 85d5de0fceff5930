import { readFileSync } from 'node:fs';
import pino from 'pino';
import { EngineConfigError, engineConfigFromEnv } from './config.ts';
import { startEngine } from './engine.ts';

/** The standalone engine: configuration from the environment, logs as JSON lines on stdout. */
const logger = pino({ name: 'engine', level: process.env.LOG_LEVEL ?? 'info' });

async function main(): Promise<void> {
  const { tlsPaths, ...config } = engineConfigFromEnv(process.env);
  if (tlsPaths.SIP_TLS_CERT && tlsPaths.SIP_TLS_KEY) {
    config.sipTls = {
      cert: readFileSync(tlsPaths.SIP_TLS_CERT, 'utf8'),
      key: readFileSync(tlsPaths.SIP_TLS_KEY, 'utf8'),
    };
  }
  if (tlsPaths.ENGINE_ADMIN_TLS_CERT && tlsPaths.ENGINE_ADMIN_TLS_KEY) {
    config.adminTls = {
      cert: readFileSync(tlsPaths.ENGINE_ADMIN_TLS_CERT, 'utf8'),
      key: readFileSync(tlsPaths.ENGINE_ADMIN_TLS_KEY, 'utf8'),
    };
  }
  const engine = await startEngine(config, { logger });
  logger.info({ admin: engine.adminAddress, listeners: engine.listeners }, 'engine started');
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    engine.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof EngineConfigError) logger.fatal(err.message);
  else logger.fatal({ err }, 'engine failed to start');
  process.exit(1);
});
