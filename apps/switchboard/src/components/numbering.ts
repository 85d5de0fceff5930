import type { Config } from '@switchboard/config';
import type { Database } from '@switchboard/db';
import type { MetricsRegistry } from '@switchboard/metrics';
import { type RunningNumbering, start as startNumbering } from '@switchboard/numbering';
import type { Logger } from 'pino';
import type { Component } from '../component.ts';

/** Number <-> URI mapping, LCR and rewrite rules, kept in memory and served over HTTP and ENUM. */
export function numberingComponent(
  config: Config,
  logger: Logger,
  metrics: MetricsRegistry,
  database: () => Database,
  onReady: (numbering: RunningNumbering) => void,
): Component {
  return {
    name: 'numbering',
    async start() {
      const numbering = await startNumbering(
        { port: config.numberingPort, host: config.numberingHost, enumListen: config.enumListen },
        { db: database(), logger, metrics },
      );
      onReady(numbering);
      logger.info(
        { port: numbering.service.httpPort, enum: numbering.service.enumAddresses },
        'numbering service listening',
      );
      return {
        health: () => ({ status: 'up', detail: `port ${numbering.service.httpPort}` }),
        stop: () => numbering.close(),
      };
    },
  };
}
