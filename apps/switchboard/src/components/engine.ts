import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '@switchboard/config';
import {
  engineConfigFrom,
  type RunningEngine,
  reloadSipCertificateOnSighup,
  startEngine,
} from '@switchboard/engine';
import type { MetricsRegistry } from '@switchboard/metrics';
import type { Logger } from 'pino';
import { selfSignedCertificate } from '../certificates.ts';
import type { Component } from '../component.ts';
import { disabledComponent } from '../component.ts';

/**
 * The embedded SIP engine, unless DRACHTIO_URL points at an external one (ours or drachtio-server). Its
 * admin listener stays open in all-in-one mode too, so operators can attach their own drachtio-srf apps.
 */
export function engineComponent(
  config: Config,
  logger: Logger,
  metrics: MetricsRegistry,
  onReady: (engine: RunningEngine) => void,
): Component {
  return {
    name: 'engine',
    async start() {
      if (config.drachtio) {
        return disabledComponent(`external engine at ${config.drachtio.host}:${config.drachtio.port}`);
      }
      const needsTls = config.sipListen.some((l) => l.transport === 'tls' || l.transport === 'wss');
      const sipTls =
        config.sipTls ??
        (needsTls
          ? await selfSignedCertificate(config.dataDir, config.sipAdvertisedAddress ?? 'localhost', logger)
          : undefined);
      const engine = await startEngine(await engineConfigFrom({ ...config, sipTls }), {
        logger: logger.child({ component: 'engine' }),
        metrics,
      });
      onReady(engine);
      // SIGHUP: a renewed certificate (SIP_TLS_CERT/KEY replaced by a deploy hook) for new TLS handshakes.
      const stopReload = sipTls ? reloadSipCertificateOnSighup(engine, sipTls, logger) : () => {};
      const sip = engine.listeners.map((l) => `${l.transport}:${l.host}:${l.port}`);
      logger.info({ sip, admin: engine.adminAddress }, 'SIP engine listening');
      if (config.engineSecretGenerated) {
        // The secret goes to a file only its owner can read, never into the log or the terminal.
        const file = await writeEngineSecret(config.dataDir, config.engineSecret);
        logger.info(
          {
            admin: `${engine.adminAddress.host}:${engine.adminAddress.port}`,
            secretFile: file,
            hint: 'generated for this run; set ENGINE_SECRET to keep one',
          },
          'engine secret for drachtio-srf apps written to secretFile',
        );
      }
      return {
        health: () => ({ status: 'up', detail: sip.join(',') }),
        stop: () => {
          stopReload();
          return engine.close();
        },
      };
    },
  };
}

/** `$DATA_DIR/engine-secret`, mode 0600 (also when the file was there before with a wider mode). */
export async function writeEngineSecret(dataDir: string, secret: string): Promise<string> {
  const file = join(dataDir, 'engine-secret');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}
