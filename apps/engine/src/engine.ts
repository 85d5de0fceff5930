import pino, { type Logger } from 'pino';
import { AdminServer, type AppRequestHandler } from './admin/admin-server.ts';
import {
  DEFAULT_LIMITS,
  type EngineConfig,
  formatHostport,
  type HostPort,
  type SipListener,
} from './config.ts';
import { responseMessage } from './wire/protocol.ts';

/** The version apps see in the authenticate reply; vX.Y.Z >= v0.8.2 makes drachtio-srf send pings. */
export const ENGINE_VERSION = 'v0.9.4-switchboard-engine';

export interface EngineDeps {
  logger?: Logger;
}

/** A SIP listener as bound (port 0 in the configuration becomes the real port). */
export interface BoundListener extends SipListener {
  /** The address written into Via/Contact. */
  advertisedAddress: string;
}

export interface RunningEngine {
  listeners: BoundListener[];
  adminAddress: HostPort;
  close(): Promise<void>;
}

/** Starts the engine: the admin listener for drachtio-srf apps and the SIP listeners. */
export async function startEngine(config: EngineConfig, deps: EngineDeps = {}): Promise<RunningEngine> {
  const logger = deps.logger ?? pino({ name: 'engine' });
  const limits = { ...DEFAULT_LIMITS, ...config.limits };
  const listeners: BoundListener[] = [];
  const handler: AppRequestHandler = {
    handleSip(app, msg) {
      app.send(responseMessage(msg.msgId, 'NOK', 'no SIP transport available'));
    },
    handleProxy(app, msg) {
      app.send(responseMessage(msg.msgId, 'NOK', 'no SIP transport available'));
    },
    appGone() {},
  };
  const admin = new AdminServer({
    host: config.engineAdmin.host,
    port: config.engineAdmin.port,
    secret: config.engineSecret,
    ...(config.adminTls ? { tls: { cert: config.adminTls.cert, key: config.adminTls.key } } : {}),
    authTimeoutMs: limits.authTimeoutMs,
    maxConnections: limits.maxAppConnections,
    identity: {
      version: ENGINE_VERSION,
      hostports: () => listeners.map((l) => formatHostport(l.transport, l.advertisedAddress, l.port)),
      localHostports: () => listeners.map((l) => formatHostport(l.transport, l.host, l.port)),
    },
    handler,
    logger: logger.child({ component: 'admin' }),
  });
  const adminAddress = await admin.listen();
  return {
    listeners,
    adminAddress,
    async close() {
      await admin.close();
    },
  };
}
