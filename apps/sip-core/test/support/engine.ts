import { type RunningEngine, startEngine } from '@switchboard/engine';
import type { MetricsRegistry } from '@switchboard/metrics';
import { drachtioServerBinary, startDrachtioServer } from '@switchboard/testkit';
import type { Logger } from 'pino';
import { describe } from 'vitest';
import type { DrachtioConnection } from '../../src/config.ts';

/**
 * The engine sip-core's scenario tests run on: ours by default, or the C++ drachtio-server with
 * `SWITCHBOARD_TEST_ENGINE=drachtio-server` and `DRACHTIO_SERVER_BIN=<binary>`. sip-core must behave the
 * same on both; a suite that drachtio-server cannot run (no binary) is skipped by name, never passed.
 */
export type EngineKind = 'switchboard' | 'drachtio-server';

function engineFromEnvironment(): EngineKind {
  const value = process.env.SWITCHBOARD_TEST_ENGINE;
  if (value === undefined || value === '' || value === 'switchboard') return 'switchboard';
  if (value === 'drachtio-server') return 'drachtio-server';
  throw new Error(`SWITCHBOARD_TEST_ENGINE=${value}: expected switchboard or drachtio-server`);
}

export const ENGINE_UNDER_TEST: EngineKind = engineFromEnvironment();

/** Why the engine under test cannot start here, or undefined when it can. */
export const ENGINE_SKIP_REASON: string | undefined = (() => {
  if (ENGINE_UNDER_TEST !== 'drachtio-server') return undefined;
  const binary = drachtioServerBinary();
  return 'missing' in binary ? binary.missing : undefined;
})();

/** `describe` of a suite that runs on the engine under test: skipped, its name saying why, when it cannot start. */
export const describeOnEngine = describe.skipIf(ENGINE_SKIP_REASON !== undefined);

/**
 * Whether a suite cannot run here: the engine under test cannot start, or it is drachtio-server and the
 * suite needs what drachtio-server lacks (`unsupported` says what, and is written into the suite's name).
 */
export function skipOnEngine(unsupported?: string): boolean {
  return (
    ENGINE_SKIP_REASON !== undefined || (ENGINE_UNDER_TEST === 'drachtio-server' && unsupported !== undefined)
  );
}

/**
 * A suite's name with the engine it runs on, and the reason when it is skipped: use with
 * `describe.skipIf(skipOnEngine(unsupported))(onEngine('...', unsupported), ...)`.
 */
export function onEngine(name: string, unsupported?: string): string {
  if (ENGINE_UNDER_TEST === 'switchboard') return name;
  if (ENGINE_SKIP_REASON) return `${name} [drachtio-server: skipped, ${ENGINE_SKIP_REASON}]`;
  return unsupported ? `${name} [drachtio-server: skipped, ${unsupported}]` : `${name} [drachtio-server]`;
}

export type TestTransport = 'udp' | 'tcp' | 'tls';

export interface TestEngineOptions {
  secret: string;
  logger: Logger;
  /**
   * SIP transports on 127.0.0.1 (default UDP): one port for all on drachtio-server, one each on ours.
   * `tls` (ours only) needs `tls`, the certificate it serves.
   */
  transports?: TestTransport[];
  /** PEM certificate and key of a `tls` listener. */
  tls?: { cert: string; key: string };
  /** Our engine's ENGINE_OUTBOUND_TLS_CA: the CA a carrier's TLS certificate is checked against. */
  outboundTlsCa?: string;
  /** Our engine's 100 Trying delay (drachtio-server's is its own). */
  tryingDelayMs?: number;
  /** Our engine's metrics registry. */
  metrics?: MetricsRegistry;
  /** A test of our engine's own behaviour (reply mode, its metrics) pins it here. */
  engine?: EngineKind;
}

export interface TestEngine {
  kind: EngineKind;
  /** sip-core's `drachtio` option. */
  drachtio: DrachtioConnection;
  /** The SIP port of a transport that was asked for. */
  port(transport: TestTransport): number;
  /** `127.0.0.1:<port>` of the first transport asked for, where sipp and the softphones send. */
  remote: string;
  /** Our engine, when that is the one running (for tests that look inside it). */
  switchboard?: RunningEngine;
  close(): Promise<void>;
}

/** Starts the engine under test on loopback ports of its choosing (ours: port 0; drachtio-server: testkit). */
export async function startTestEngine(options: TestEngineOptions): Promise<TestEngine> {
  const kind = options.engine ?? ENGINE_UNDER_TEST;
  const transports = options.transports ?? ['udp'];
  const portOf =
    (ports: Map<string, number>) =>
    (transport: TestTransport): number => {
      const port = ports.get(transport);
      if (port === undefined) throw new Error(`the test engine was not asked to listen on ${transport}`);
      return port;
    };
  if (kind === 'drachtio-server') {
    const binary = drachtioServerBinary();
    if ('missing' in binary) throw new Error(`drachtio-server cannot start: ${binary.missing}`);
    const plain = transports.filter((t): t is 'udp' | 'tcp' => t !== 'tls');
    if (plain.length !== transports.length)
      throw new Error('the drachtio-server harness has no tls listener');
    const server = await startDrachtioServer(binary.path, {
      secret: options.secret,
      transports: plain,
      logLevel: process.env.DRACHTIO_SERVER_LOGLEVEL,
    });
    return {
      kind,
      drachtio: { ...server.admin, secret: options.secret },
      port: portOf(new Map(transports.map((t) => [t, server.sipPort]))),
      remote: `127.0.0.1:${server.sipPort}`,
      close: () => server.close(),
    };
  }
  const engine = await startEngine(
    {
      sipListen: transports.map((transport) => ({ transport, host: '127.0.0.1', port: 0 })),
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: options.secret,
      ...(options.tls ? { sipTls: options.tls } : {}),
      ...(options.outboundTlsCa ? { outboundTlsCa: options.outboundTlsCa } : {}),
      ...(options.tryingDelayMs === undefined ? {} : { tryingDelayMs: options.tryingDelayMs }),
    },
    { logger: options.logger, ...(options.metrics ? { metrics: options.metrics } : {}) },
  );
  const ports = new Map(engine.listeners.map((l) => [l.transport, l.port]));
  return {
    kind,
    drachtio: { host: '127.0.0.1', port: engine.adminAddress.port, secret: options.secret },
    port: portOf(ports),
    remote: `127.0.0.1:${ports.get(transports[0]!)}`,
    switchboard: engine,
    close: () => engine.close(),
  };
}
