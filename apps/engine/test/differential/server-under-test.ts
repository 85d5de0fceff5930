import { appendFileSync } from 'node:fs';
import { allocatePort, testPortRange } from '@switchboard/testkit';
import { afterEach, beforeEach } from 'vitest';
import type { EngineConfig } from '../../src/config.ts';
import { startEngine } from '../../src/engine.ts';
import { silentLogger } from '../helpers.ts';
import { referenceBinary, startReferenceServer } from './reference-server.ts';

/**
 * The server the contract tests drive: the engine, or, for a differential run, drachtio-server
 * (ENGINE_TEST_SERVER=drachtio-server with DRACHTIO_SERVER_BIN). A differential run also sets
 * SIP_DIFF_MARKERS (a file where each test's time window and the server's SIP endpoints are appended, to
 * cut the capture into scenarios) and SIP_DIFF_PORTS (`min-max`: every SIP port of the run comes from
 * there, so that a capture filter on that range sees all of it and nothing of other tests).
 */

export interface ServerUnderTest {
  listeners: Array<{ transport: string; host: string; port: number }>;
  adminAddress: { port: number };
  close(): Promise<void>;
}

export const SERVER_KIND =
  process.env.ENGINE_TEST_SERVER === 'drachtio-server' ? 'drachtio-server' : 'engine';
const MARKERS = process.env.SIP_DIFF_MARKERS;

/** The port range of a differential run, else undefined (tests use their usual ranges). */
export function diffPortRange(): { min: number; max: number } | undefined {
  const m = /^(\d+)-(\d+)$/.exec(process.env.SIP_DIFF_PORTS ?? '');
  return m ? { min: Number(m[1]), max: Number(m[2]) } : undefined;
}

let endpoints: string[] = [];
let started = 0;
if (MARKERS) {
  beforeEach(() => {
    endpoints = [];
    started = Date.now() / 1000;
  });
  afterEach((context) => {
    const entry = {
      test: context.task.name,
      suite: context.task.suite?.name ?? '',
      start: started,
      end: Date.now() / 1000,
      endpoints,
      state: context.task.result?.state ?? 'unknown',
    };
    appendFileSync(MARKERS, `${JSON.stringify(entry)}\n`);
  });
}

async function freePort(): Promise<number> {
  const range = diffPortRange() ?? testPortRange();
  return allocatePort({ tcp: true, ...range });
}

/** Starts the configured server with the SIP listeners and advertised address asked for. */
export async function startServerUnderTest(
  config: Pick<EngineConfig, 'sipListen' | 'sipAdvertisedAddress' | 'engineSecret'>,
): Promise<ServerUnderTest> {
  if (SERVER_KIND === 'drachtio-server') return startReference(config);
  const range = diffPortRange();
  const sipListen = await Promise.all(
    config.sipListen.map(async (l) => (range && l.port === 0 ? { ...l, port: await freePort() } : l)),
  );
  const engine = await startEngine(
    { ...config, sipListen, engineAdmin: { host: '127.0.0.1', port: 0 } },
    { logger: silentLogger },
  );
  for (const l of engine.listeners) endpoints.push(`${l.host}:${l.port}`);
  return engine;
}

async function startReference(
  config: Pick<EngineConfig, 'sipListen' | 'sipAdvertisedAddress' | 'engineSecret'>,
): Promise<ServerUnderTest> {
  const bin = referenceBinary();
  if (!bin) throw new Error('ENGINE_TEST_SERVER=drachtio-server needs DRACHTIO_SERVER_BIN');
  const host = config.sipListen[0]?.host ?? '127.0.0.1';
  const transports = config.sipListen.map((l) => l.transport).filter((t) => t === 'udp' || t === 'tcp');
  // one port for every transport: that is how drachtio-server's contact works
  const port = await freePort();
  const adminPort = await allocatePort({ tcp: true, min: 24000, max: 24999 });
  const server = await startReferenceServer({
    bin,
    sipAddress: host,
    sipPort: port,
    transports,
    adminPort,
    secret: config.engineSecret,
    ...(config.sipAdvertisedAddress ? { externalIp: config.sipAdvertisedAddress } : {}),
  });
  endpoints.push(`${host}:${port}`);
  return {
    listeners: transports.map((transport) => ({ transport, host, port })),
    adminAddress: { port: adminPort },
    close: () => server.close(),
  };
}
