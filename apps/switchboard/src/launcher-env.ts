import { DEFAULTS } from '@switchboard/config';

/**
 * The secure WebSocket listener the all-in-one launcher adds when SIP_LISTEN is not set: browsers only
 * open `wss://` from a page served over https, and only WebSocket at all (RFC 7118), so the portal's
 * browser phone needs it. 5063 is the port the production layout uses for wss.
 */
export const LAUNCHER_WSS_LISTENER = 'wss:0.0.0.0:5063';

/**
 * SIP over TLS (RFC 3261 §26.2, port 5061 by RFC 3261 §19.1.2) for desk and soft phones, served with the
 * same certificate as wss: signalling, digest challenges and the SDES keys of SRTP calls (RFC 4568 §8.3)
 * are only private on an encrypted hop.
 */
export const LAUNCHER_TLS_LISTENER = 'tls:0.0.0.0:5061';

/**
 * The environment the launcher reads its configuration from: the operator's, with the TLS and WSS
 * listeners added to SIP_LISTEN's default. A SIP_LISTEN the operator set is kept as it is (no tls or wss
 * unless listed). The standalone engine keeps the plain default: it has no certificate of its own to
 * serve them with, where the launcher generates a self-signed one.
 */
export function launcherEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.SIP_LISTEN !== undefined && env.SIP_LISTEN.trim() !== '') return env;
  return { ...env, SIP_LISTEN: `${DEFAULTS.SIP_LISTEN},${LAUNCHER_TLS_LISTENER},${LAUNCHER_WSS_LISTENER}` };
}
