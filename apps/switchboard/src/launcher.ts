import { mkdir } from 'node:fs/promises';
import type { Config } from '@switchboard/config';
import type { Logger } from 'pino';
import type { Component, ComponentHealth, RunningComponent } from './component.ts';

/** A started platform: each component's health, and one call that stops them all in reverse order. */
export interface Switchboard {
  health(): Promise<Record<string, ComponentHealth>>;
  stop(): Promise<void>;
}

/**
 * Starts components in order. If one fails to start, those already running are stopped again, so a failed
 * start leaves no listener, child process or open database behind.
 */
export async function startComponents(components: Component[], logger: Logger): Promise<Switchboard> {
  const running: { name: string; component: RunningComponent }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const { name, component } of running.reverse()) {
      try {
        await component.stop();
        logger.info({ component: name }, 'component stopped');
      } catch (err) {
        logger.error({ component: name, err }, 'component failed to stop cleanly');
      }
    }
    running.length = 0;
  };

  for (const c of components) {
    try {
      const started = await c.start();
      running.push({ name: c.name, component: started });
      const h = await started.health();
      logger.info({ component: c.name, status: h.status, detail: h.detail }, 'component started');
    } catch (err) {
      logger.error({ component: c.name, err }, 'component failed to start');
      await stopAll();
      throw err;
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    async health() {
      const entries = await Promise.all(
        running.map(async ({ name, component }): Promise<[string, ComponentHealth]> => {
          try {
            return [name, await component.health()];
          } catch (err) {
            return [name, { status: 'down', detail: (err as Error).message }];
          }
        }),
      );
      return Object.fromEntries(entries);
    },
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
  };
}

/** Makes sure the data directory exists before any component writes into it. */
export async function prepareDataDir(config: Config): Promise<void> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o750 });
}
