import { sipConnectionOf } from '@switchboard/api';
import type { Config } from '@switchboard/config';
import type { Database } from '@switchboard/db';
import type { RunningEngine } from '@switchboard/engine';
import type { ResolvedMedia } from '@switchboard/media';
import { createMetricsRegistry } from '@switchboard/metrics';
import type { RunningNumbering } from '@switchboard/numbering';
import type { RunningSipCore } from '@switchboard/sip-core';
import type { Logger } from 'pino';
import { activeCallsForApi } from './active-calls.ts';
import type { Component } from './component.ts';
import { apiComponent } from './components/api.ts';
import { billingComponent } from './components/billing.ts';
import { databaseComponent } from './components/database.ts';
import { engineComponent } from './components/engine.ts';
import { mediaComponent } from './components/media.ts';
import { numberingComponent } from './components/numbering.ts';
import { sipCoreComponent } from './components/sip-core.ts';
import { withLocalDtmfFeed } from './dtmf-feed-port.ts';
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
  if (!options.migrateOnly) config = await withLocalDtmfFeed(config);
  // One registry for every component: the API's GET /metrics shows the whole process.
  const metrics = createMetricsRegistry();
  let db: Database | undefined;
  const database = (): Database => {
    if (!db) throw new Error('the database component must start first');
    return db;
  };
  let media: ResolvedMedia | undefined;
  let numbering: RunningNumbering | undefined;
  let engine: RunningEngine | undefined;
  let sipCore: RunningSipCore | undefined;
  // The API reports on every component, itself included, through this late-bound reference.
  let platform: Switchboard | undefined;

  const components: Component[] = [
    databaseComponent(config, logger, metrics, (opened) => {
      db = opened;
    }),
  ];
  if (!options.migrateOnly) {
    components.push(
      mediaComponent(config, logger, (started) => {
        media = started;
      }),
      numberingComponent(config, logger, metrics, database, (started) => {
        numbering = started;
      }),
      engineComponent(config, logger, metrics, (started) => {
        engine = started;
      }),
      sipCoreComponent(
        config,
        logger,
        metrics,
        database,
        () => engine,
        () => ({
          media: media?.media,
          numbering: numbering?.index,
          ngAddresses: media?.ngAddresses,
        }),
        (started) => {
          sipCore = started;
        },
      ),
      billingComponent(logger, database, config.mail),
      apiComponent(config, logger, database, {
        health: async () => (platform ? platform.health() : {}),
        activeCalls: () => activeCallsForApi(sipCore, database().prisma),
        metrics,
        callLadder: (callIds) => engine?.capture.ladder(callIds) ?? [],
        // The ports the engine bound (SIP_LISTEN may say 0); an external engine: what SIP_LISTEN says.
        sipConnection: () =>
          sipConnectionOf(config.sipAdvertisedAddress, engine?.listeners ?? config.sipListen),
      }),
    );
  }

  platform = await startComponents(components, logger);
  return platform;
}
