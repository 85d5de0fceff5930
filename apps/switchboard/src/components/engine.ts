import type { Config } from '@switchboard/config';
import { engineConfigFrom, type RunningEngine, startEngine } from '@switchboard/engine';
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
      const sip = engine.listeners.map((l) => `${l.transport}:${l.host}:${l.port}`);
      logger.info({ sip, admin: engine.adminAddress }, 'SIP engine listening');
      if (config.engineSecretGenerated) {
        const admin = `${engine.adminAddress.host}:${engine.adminAddress.port}`;
        process.stdout.write(
          `\n  drachtio-srf apps can attach to the engine at ${admin} with the secret ${config.engineSecret}\n` +
            '  (generated for this run; set ENGINE_SECRET to keep one).\n\n',
        );
      }
      return {
        health: () => ({ status: 'up', detail: sip.join(',') }),
        stop: () => engine.close(),
      };
    },
  };
}
