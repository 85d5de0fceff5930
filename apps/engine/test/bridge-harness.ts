import { AdminServer } from '../src/admin/admin-server.ts';
import type { AppConnection } from '../src/admin/app-connection.ts';
import { AppRegistry } from '../src/admin/app-registry.ts';
import { DrachtioBridge } from '../src/bridge/drachtio-bridge.ts';
import { SECRET, silentLogger } from './helpers.ts';
import { LoopbackStack } from './loopback-stack.ts';
import { Srf, type SrfApp } from './srf.ts';

/**
 * The drachtio bridge with the far end played in-process (LoopbackStack) and real drachtio-srf apps connected
 * over the admin protocol. A test file runs `cleanups` after each test.
 */

export const cleanups: Array<() => Promise<void> | void> = [];

export async function setup(
  options: {
    answerOptions?: boolean;
    t1Ms?: number;
    appResponseTimeoutMs?: number;
    minSessionExpires?: number;
    subscriptionGraceSeconds?: number;
  } = {},
) {
  const stack = new LoopbackStack();
  const registry = new AppRegistry<AppConnection>();
  const bridge = new DrachtioBridge({
    stack,
    registry,
    logger: silentLogger,
    answerOptions: options.answerOptions ?? true,
    appResponseTimeoutMs: options.appResponseTimeoutMs ?? 64_000,
    t1Ms: options.t1Ms ?? 500,
    ...(options.minSessionExpires !== undefined ? { minSessionExpires: options.minSessionExpires } : {}),
    ...(options.subscriptionGraceSeconds !== undefined
      ? { subscriptionGraceSeconds: options.subscriptionGraceSeconds }
      : {}),
  });
  const admin = new AdminServer({
    host: '127.0.0.1',
    port: 0,
    secret: SECRET,
    identity: {
      version: 'v0.9.4-test',
      hostports: () => ['udp/192.0.2.1:5060'],
      localHostports: () => ['udp/127.0.0.1:5060'],
    },
    handler: bridge,
    registry,
    logger: silentLogger,
  });
  const address = await admin.listen();
  cleanups.push(async () => {
    bridge.close();
    await admin.close();
  });
  const connect = async (configure: (srf: SrfApp) => void = () => {}) => {
    const srf = new Srf();
    srf.on('error', () => {});
    configure(srf);
    const connected = new Promise<void>((resolve) => srf.on('connect', () => resolve()));
    srf.connect({ host: '127.0.0.1', port: address.port, secret: SECRET });
    await connected;
    cleanups.push(() => {
      try {
        srf.disconnect();
      } catch {
        // already gone
      }
    });
    return srf;
  };
  return { stack, bridge, admin, registry, connect };
}
