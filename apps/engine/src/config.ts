import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import {
  type Config,
  ConfigError,
  type ConfigProblem,
  type SipListener as ContractSipListener,
  type HostPort,
  type SipTransport,
  type TlsPaths,
} from '@switchboard/config';
import type { AuthGuardOptions } from './admin/auth-guard.ts';
import type { RequestHandler } from './routing/request-handlers.ts';

/**
 * The engine's configuration. HostPort, SipTransport and SipListener are the runtime contract's shapes
 * (SIP_LISTEN, ENGINE_ADMIN; parsed by @switchboard/config), so parsed values go straight to startEngine.
 */

export type { HostPort, SipTransport };

export interface SipListener extends ContractSipListener {
  /** Address written into Via/Contact for this listener (a host behind 1:1 NAT); defaults to the engine-wide one. */
  advertisedAddress?: string;
}

export interface TlsFiles {
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
}

export interface EngineLimits {
  /** Largest SIP message accepted from the network, in bytes (larger ones are dropped, or 413 on streams). */
  maxMessageBytes: number;
  /**
   * Receive buffer asked for each UDP listener, in bytes. Datagrams arriving while it is full are lost
   * (a retransmission later); the kernel caps the size at `net.core.rmem_max`.
   */
  udpReceiveBufferBytes: number;
  /** Most drachtio apps connected at once. */
  maxAppConnections: number;
  /** How long an app has to answer an incoming request before the engine answers 500 itself (ms). */
  appResponseTimeoutMs: number;
  /** How long a new app connection may take to authenticate (ms). */
  authTimeoutMs: number;
  /** A SIP message on TCP/TLS/WS/WSS must be complete this long after its first byte (ms; 0: no limit). */
  messageTimeoutMs: number;
  /** Stream connections (TCP, TLS, WS, WSS) open at once, all addresses together. */
  maxConnections: number;
  /** Stream connections open at once from one address. */
  maxConnectionsPerAddress: number;
}

export interface EngineConfig {
  sipListen: SipListener[];
  /** Engine-wide advertised address (SIP_ADVERTISED_ADDRESS); a listener's own advertisedAddress wins. */
  sipAdvertisedAddress?: string;
  /** Where drachtio-srf apps connect (ENGINE_ADMIN). */
  engineAdmin: HostPort;
  /** The shared secret apps authenticate with (ENGINE_SECRET). */
  engineSecret: string;
  /** Certificate for tls/wss SIP listeners. */
  sipTls?: TlsFiles;
  /** Serve the admin listener over TLS with this certificate. */
  adminTls?: TlsFiles;
  /**
   * CA certificates (PEM) trusted for `tls://` request handlers: connections out to apps listening with
   * `Srf.listen` over TLS; and, besides Node's CAs, for SIP over TLS out to carriers (ENGINE_OUTBOUND_TLS_CA).
   */
  outboundTlsCa?: string;
  /** Log every SIP message sent and received (SIP_TRACE=1). */
  sipTrace?: boolean;
  /** Answer OPTIONS with 200 when no app routes OPTIONS (default true). */
  answerOptions?: boolean;
  limits?: Partial<EngineLimits>;
  /**
   * Our Min-SE (RFC 4028), in seconds: the shortest session interval the engine accepts and runs. Default 90,
   * the RFC's floor; a lower value only makes sense in tests that watch session refreshes and expiry.
   */
  minSessionExpires?: number;
  /**
   * Timer C of proxied INVITE branches, in ms (RFC 3261 §16.8): a branch with no final response this long after
   * its last provisional is cancelled. Default 185 000 (drachtio-server's value; the RFC asks for > 3 min).
   */
  proxyTimerCMs?: number;
  /**
   * How long an INVITE waits for the app's answer before the engine sends 100 Trying itself, in ms (RFC 3261
   * §17.2.1). Default 200, the RFC's value: a challenge or refusal sent sooner goes alone, not as a 100 + final
   * pair. Tests that count packets on a loaded machine raise it.
   */
  tryingDelayMs?: number;
  /**
   * drachtio-server's request handlers (reverse mode and HTTP routing, see routing/request-handlers.ts): per
   * SIP method or `*`, a `tcp://host:port` app to connect out to, or an http(s) URL that says where each new
   * request goes. Methods without a handler go to the connected apps as usual.
   */
  requestHandlers?: RequestHandler[];
  /** Delay after a wrong admin secret and the ban after repeated ones (see admin/auth-guard.ts). */
  adminAuthGuard?: Partial<AuthGuardOptions>;
  /** HEP v3 export of every SIP message (HEP_DESTINATION, HEP_CAPTURE_ID, HEP_PASSWORD). */
  hep?: HepConfig;
  /**
   * IP addresses of the cluster's nodes (SIP_CLUSTER_NODES): requests from them whose Route names one
   * of our flows go out on it (bridge/cluster-forward.ts). Unset or empty: none.
   */
  clusterPeers?: string[];
}

export interface HepConfig {
  destination: HostPort;
  captureId: number;
  authKey?: string;
}

export const DEFAULT_LIMITS: EngineLimits = {
  maxMessageBytes: 65_535,
  udpReceiveBufferBytes: 4_194_304,
  maxAppConnections: 1000,
  appResponseTimeoutMs: 64_000,
  authTimeoutMs: 10_000,
  messageTimeoutMs: 10_000,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 100,
};

/**
 * The engine's configuration from the runtime contract (loadConfig of @switchboard/config), used by the
 * standalone main and by the all-in-one launcher. Reads the PEM files named by SIP_TLS_CERT/SIP_TLS_KEY and
 * ENGINE_ADMIN_TLS_CERT/ENGINE_ADMIN_TLS_KEY; a file that cannot be read is a ConfigError naming its variable.
 */
export async function engineConfigFrom(config: Config): Promise<EngineConfig> {
  const problems: ConfigProblem[] = [];
  const readPem = async (variable: string, path: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      problems.push({ variable, message: `cannot read the PEM file '${path}' (${reason})` });
      return '';
    }
  };
  const readPair = async (
    paths: TlsPaths | undefined,
    certVariable: string,
    keyVariable: string,
  ): Promise<TlsFiles | undefined> => {
    if (paths === undefined) return undefined;
    const [cert, key] = await Promise.all([
      readPem(certVariable, paths.certPath),
      readPem(keyVariable, paths.keyPath),
    ]);
    return { cert, key };
  };
  const sipTls = await readPair(config.sipTls, 'SIP_TLS_CERT', 'SIP_TLS_KEY');
  const adminTls = await readPair(config.engineAdminTls, 'ENGINE_ADMIN_TLS_CERT', 'ENGINE_ADMIN_TLS_KEY');
  const outboundTlsCa =
    config.engineOutboundTlsCa === undefined
      ? undefined
      : await readPem('ENGINE_OUTBOUND_TLS_CA', config.engineOutboundTlsCa);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    sipListen: config.sipListen,
    ...(config.sipAdvertisedAddress !== undefined
      ? { sipAdvertisedAddress: config.sipAdvertisedAddress }
      : {}),
    engineAdmin: config.engineAdmin,
    engineSecret: config.engineSecret,
    ...(sipTls ? { sipTls } : {}),
    ...(adminTls ? { adminTls } : {}),
    ...(outboundTlsCa !== undefined ? { outboundTlsCa } : {}),
    sipTrace: config.sipTrace,
    answerOptions: config.engineAnswerOptions,
    limits: {
      maxMessageBytes: config.sipMaxMessageBytes,
      udpReceiveBufferBytes: config.sipUdpReceiveBufferBytes,
      maxAppConnections: config.engineMaxApps,
      messageTimeoutMs: config.sipMessageTimeoutMs,
      maxConnections: config.sipMaxConnections,
      maxConnectionsPerAddress: config.sipMaxConnectionsPerAddress,
    },
    ...(config.engineRequestHandlers.length > 0 ? { requestHandlers: config.engineRequestHandlers } : {}),
    ...(config.sipClusterNodes.length > 0
      ? { clusterPeers: config.sipClusterNodes.map((node) => node.host) }
      : {}),
    ...(config.hepDestination
      ? {
          hep: {
            destination: config.hepDestination,
            captureId: config.hepCaptureId,
            ...(config.hepPassword !== undefined ? { authKey: config.hepPassword } : {}),
          },
        }
      : {}),
  };
}

/**
 * What the standalone engine needs beyond the contract: apps elsewhere must know ENGINE_SECRET, so a
 * generated one is useless; and nobody generates a certificate for tls/wss listeners. Throws ConfigError.
 */
export function checkStandaloneConfig(config: Config): void {
  const problems: ConfigProblem[] = [];
  if (config.engineSecretGenerated) {
    problems.push({
      variable: 'ENGINE_SECRET',
      message:
        'required by the standalone engine (16+ characters; shorter ones on a loopback ENGINE_ADMIN only), since its apps must know it',
    });
  }
  const secure = config.sipListen.filter((l) => l.transport === 'tls' || l.transport === 'wss');
  if (secure.length > 0 && config.sipTls === undefined) {
    problems.push({
      variable: 'SIP_TLS_CERT',
      message: `required with SIP_TLS_KEY for the ${[...new Set(secure.map((l) => l.transport))].join(' and ')} listeners in SIP_LISTEN`,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** `udp/1.2.3.4:5060`, IPv6 bracketed: the form drachtio apps receive in the authenticate reply. */
export function formatHostport(transport: SipTransport, host: string, port: number): string {
  return `${transport}/${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
