import { ConfigError, createLogger, loadConfig } from '@switchboard/config';
import { createMetricsRegistry, startMetricsServer } from '@switchboard/metrics';
import { reloadSipCertificateOnSighup } from './certificate-reload.ts';
import { checkStandaloneConfig, engineConfigFrom } from './config.ts';
import { startEngine } from './engine.ts';

/**
 * The standalone engine: configuration from the environment (the runtime contract, plus ENGINE_SECRET and a
 * certificate for tls/wss being required), logs as JSON lines on stdout (readable lines on a terminal).
 */
const logger = createLogger({ app: 'engine', level: 'info' });

async function main(): Promise<void> {
  const contract = loadConfig(process.env);
  logger.level = contract.logLevel;
  checkStandaloneConfig(contract);
  const metrics = createMetricsRegistry();
  const engine = await startEngine(await engineConfigFrom(contract), { logger, metrics });
  const metricsServer = contract.metricsListen
    ? await startMetricsServer(contract.metricsListen, metrics, logger)
    : undefined;
  logger.info({ admin: engine.adminAddress, listeners: engine.listeners }, 'engine started');
  // A renewed certificate is taken on SIGHUP, without dropping registered phones' connections.
  if (contract.sipTls) reloadSipCertificateOnSighup(engine, contract.sipTls, logger);
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    Promise.all([engine.close(), metricsServer?.close()]).then(
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
  if (err instanceof ConfigError) logger.fatal(err.message);
  else logger.fatal({ err }, 'engine failed to start');
  process.exit(1);
});
