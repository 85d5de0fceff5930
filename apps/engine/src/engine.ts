import { rootCertificates } from 'node:tls';
import { createMetricsRegistry, type MetricsRegistry, sipTrafficMetrics } from '@switchboard/metrics';
import { createSipStack, SipResolver, type SipStack } from '@switchboard/sip';
import pino, { type Logger } from 'pino';
import { AdminServer } from './admin/admin-server.ts';
import type { AppConnection } from './admin/app-connection.ts';
import { AppRegistry } from './admin/app-registry.ts';
import type { AppEnd as InProcessAppEnd } from './admin/in-process-link.ts';
import { DrachtioBridge } from './bridge/drachtio-bridge.ts';
import type { LocalHandler, LocalMethod } from './bridge/local-handlers.ts';
import { drachtioProxyOptions } from './bridge/proxy-operations.ts';
import { SipStackAdapter } from './bridge/sip-stack-adapter.ts';
import { CallCapture } from './capture/call-capture.ts';
import { type HepExporter, startHepExporter } from './capture/hep-exporter.ts';
import { ObservedTransportLayer } from './capture/observed-transport.ts';
import { engineStateGauges, sipTrafficCounter } from './capture/sip-metrics.ts';
import { traceObserver } from './capture/trace.ts';
import {
  DEFAULT_LIMITS,
  type EngineConfig,
  formatHostport,
  type HostPort,
  type SipListener,
  type TlsFiles,
} from './config.ts';

/** The version apps see in the authenticate reply; vX.Y.Z >= v0.8.2 makes drachtio-srf send pings. */
export const ENGINE_VERSION = 'v0.9.4-switchboard-engine';

export interface EngineDeps {
  logger?: Logger;
  /** Where the engine's metrics go (the all-in-one launcher shares one registry); default: a private one. */
  metrics?: MetricsRegistry;
}

/** A SIP listener as bound (port 0 in the configuration becomes the real port). */
export interface BoundListener extends SipListener {
  /** The address written into Via/Contact. */
  advertisedAddress: string;
  /** UDP: the receive buffer the kernel granted, in bytes (SIP_UDP_RECEIVE_BUFFER_BYTES, capped by net.core.rmem_max). */
  receiveBufferBytes?: number;
}

export interface RunningEngine {
  listeners: BoundListener[];
  adminAddress: HostPort;
  /** The last hour's SIP messages per Call-ID, for call ladders. */
  capture: CallCapture;
  /**
   * A renewed SIP certificate for the tls and wss listeners (certificate-reload.ts): new handshakes use
   * it, open connections keep theirs. Throws, changing nothing, when the pair does not load.
   * Returns how many listeners took it.
   */
  replaceSipCertificate(files: TlsFiles): number;
  /**
   * Links a drachtio-srf app in this process without a socket (admin-server.ts `linkInProcess`): pass the
   * result as `socket` to `srf.connect`, with the engine's secret.
   */
  linkInProcess(): InProcessAppEnd;
  /**
   * A handler in this process answers new REGISTER requests, or refuses or challenges new INVITEs, on the
   * engine's parsed message, before any connected app and without the drachtio protocol
   * (bridge/local-handlers.ts); what it does not answer it passes on to the apps, and the returned
   * function hands the method back to them. The all-in-one launcher's sip-core uses it when it is the
   * only worker.
   */
  answerLocally(method: LocalMethod, handler: LocalHandler): () => void;
  close(): Promise<void>;
}

/**
 * Starts the engine: SIP listeners, the transaction layer, the drachtio bridge and the admin listener for
 * drachtio-srf apps. Resolves once everything listens; close() stops it all.
 */
export async function startEngine(config: EngineConfig, deps: EngineDeps = {}): Promise<RunningEngine> {
  const logger = deps.logger ?? pino({ name: 'engine' });
  const limits = { ...DEFAULT_LIMITS, ...config.limits };
  const transportOptions = {
    limits: {
      maxDatagramSize: limits.maxMessageBytes,
      udpReceiveBufferBytes: limits.udpReceiveBufferBytes,
      maxStreamMessageSize: limits.maxMessageBytes,
      messageTimeoutMs: limits.messageTimeoutMs,
      maxConnections: limits.maxConnections,
      maxConnectionsPerIp: limits.maxConnectionsPerAddress,
    },
    logger: logger.child({ component: 'sip-transport' }),
    // SIP over TLS to carriers (a trunk's REGISTER, calls to a tls gateway) trusts Node's CAs and, when
    // set, ENGINE_OUTBOUND_TLS_CA (a carrier's private CA, a test's own).
    ...(config.outboundTlsCa ? { tlsClient: { ca: [...rootCertificates, config.outboundTlsCa] } } : {}),
  };
  const metrics = deps.metrics ?? createMetricsRegistry({ process: false });
  const transport = new ObservedTransportLayer(transportOptions, (err) =>
    logger.error({ err }, 'a SIP message observer failed'),
  );
  transport.observe(sipTrafficCounter(metrics));
  if (config.sipTrace) transport.observe(traceObserver(logger.child({ component: 'sip-trace' })));
  const capture = new CallCapture();
  transport.observe(capture.observer);
  let hep: HepExporter | undefined;
  if (config.hep) {
    hep = await startHepExporter({
      ...config.hep,
      logger: logger.child({ component: 'hep' }),
      packets: sipTrafficMetrics(metrics).hepPackets,
    });
    transport.observe(hep.observer);
  }
  let sip: SipStack;
  try {
    sip = await createSipStack({
      listen: config.sipListen.map((spec) => {
        const secure = spec.transport === 'tls' || spec.transport === 'wss';
        if (secure && !config.sipTls)
          throw new Error(`${spec.transport} listener needs a certificate (sipTls)`);
        const advertised = spec.advertisedAddress ?? config.sipAdvertisedAddress;
        return {
          transport: spec.transport,
          host: spec.host,
          port: spec.port,
          ...(secure && config.sipTls ? { tls: { cert: config.sipTls.cert, key: config.sipTls.key } } : {}),
          ...(advertised ? { advertisedHost: advertised } : {}),
        };
      }),
      transport,
      transactions: {
        logger: logger.child({ component: 'sip-transactions' }),
        // RFC 3261 §17.2.1: 100 Trying only when the app has not answered within 200 ms, so a quick challenge
        // or refusal is one packet, not a 100 + final pair.
        timers: { tryingDelay: config.tryingDelayMs ?? 200 },
      },
    });
  } catch (err) {
    await transport.close();
    await hep?.close();
    throw err;
  }
  const manager = sip.transactions;
  const listeners: BoundListener[] = sip.listeners.map((info) => ({
    transport: info.transport,
    host: info.host,
    port: info.port,
    advertisedAddress: info.advertisedHost,
    ...(info.receiveBufferBytes !== undefined ? { receiveBufferBytes: info.receiveBufferBytes } : {}),
  }));
  const stack = new SipStackAdapter(
    transport,
    manager,
    new SipResolver(),
    drachtioProxyOptions(config.proxyTimerCMs),
  );
  const registry = new AppRegistry<AppConnection>();
  const bridge: DrachtioBridge = new DrachtioBridge({
    stack,
    registry,
    logger: logger.child({ component: 'bridge' }),
    answerOptions: config.answerOptions ?? true,
    appResponseTimeoutMs: limits.appResponseTimeoutMs,
    ...(config.minSessionExpires !== undefined ? { minSessionExpires: config.minSessionExpires } : {}),
    ...(config.requestHandlers?.length ? { requestHandlers: config.requestHandlers } : {}),
    ...(config.clusterPeers?.length ? { clusterPeers: new Set(config.clusterPeers) } : {}),
    connectApp: (host: string, port: number, tls: boolean): Promise<AppConnection> =>
      admin.connectOutbound(
        host,
        port,
        tls ? { tls: { ...(config.outboundTlsCa ? { ca: config.outboundTlsCa } : {}) } } : {},
      ),
  });
  const admin: AdminServer = new AdminServer({
    host: config.engineAdmin.host,
    port: config.engineAdmin.port,
    secret: config.engineSecret,
    ...(config.adminTls ? { tls: { cert: config.adminTls.cert, key: config.adminTls.key } } : {}),
    authTimeoutMs: limits.authTimeoutMs,
    maxConnections: limits.maxAppConnections,
    ...(config.adminAuthGuard ? { authGuard: config.adminAuthGuard } : {}),
    identity: {
      version: ENGINE_VERSION,
      hostports: () => listeners.map((l) => formatHostport(l.transport, l.advertisedAddress, l.port)),
      localHostports: () => listeners.map((l) => formatHostport(l.transport, l.host, l.port)),
    },
    handler: bridge,
    registry,
    logger: logger.child({ component: 'admin' }),
  });
  let adminAddress: HostPort;
  try {
    adminAddress = await admin.listen();
  } catch (err) {
    bridge.close();
    await stack.close();
    await hep?.close();
    throw err;
  }
  const detachGauges = engineStateGauges(metrics, manager, () => admin.apps.size);
  logger.info({ listeners, admin: adminAddress }, 'engine listening');
  warnOfSmallReceiveBuffers(listeners, limits.udpReceiveBufferBytes, logger);
  return {
    listeners,
    adminAddress,
    capture,
    replaceSipCertificate: (files) => transport.sockets.replaceCertificates(files.cert, files.key),
    linkInProcess: () => admin.linkInProcess(),
    answerLocally: (method, handler) => bridge.answerLocally(method, handler),
    async close() {
      detachGauges();
      await admin.close();
      bridge.close();
      await stack.close();
      await hep?.close();
    },
  };
}

/**
 * Says once, at start, when the kernel granted a UDP listener less receive buffer than asked
 * (`net.core.rmem_max` lower than SIP_UDP_RECEIVE_BUFFER_BYTES): bursts beyond it are dropped by the
 * kernel and come back only as retransmissions, so the operator should know the limit is the system's.
 */
function warnOfSmallReceiveBuffers(listeners: BoundListener[], asked: number, logger: Logger): void {
  const small = listeners.filter((l) => l.receiveBufferBytes !== undefined && l.receiveBufferBytes < asked);
  if (asked <= 0 || small.length === 0) return;
  logger.warn(
    { asked, granted: small[0]?.receiveBufferBytes, listeners: small.map((l) => `${l.host}:${l.port}`) },
    'UDP receive buffer smaller than SIP_UDP_RECEIVE_BUFFER_BYTES: raise net.core.rmem_max to keep bursts',
  );
}
