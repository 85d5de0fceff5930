import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type SrfTypes from 'drachtio-srf';

/**
 * drachtio-srf, loaded as the unmodified CommonJS package. Its bundled typings omit much of the API (the verb
 * methods, 'connect' arguments, unregisterForMessages), so the tests describe the part they use here.
 */
export type SrfRequest = SrfTypes.SrfRequest;
export type SrfResponse = SrfTypes.SrfResponse;
export type Dialog = SrfTypes.Dialog;
type Handler = (req: SrfRequest, res: SrfResponse) => void;

export interface SrfApp extends EventEmitter {
  connect(opts: { host: string; port: number; secret: string; [option: string]: unknown }): void;
  disconnect(): void;
  /** Reverse mode: the engine connects to the app (drachtio-srf returns the listening server). */
  listen(opts: {
    host?: string;
    port: number;
    secret: string;
    tls?: import('node:tls').TlsOptions;
  }): import('node:net').Server;
  endSession(msg: SrfRequest | SrfResponse): void;
  options(handler: Handler): void;
  register(handler: Handler): void;
  message(handler: Handler): void;
  invite(handler: Handler): void;
  info(handler: Handler): void;
  use(verb: string, handler: Handler): void;
  unregisterForMessages(verb: string): void;
  request: SrfTypes['request'];
  createUAS: SrfTypes['createUAS'];
  createUAC: SrfTypes['createUAC'];
  createB2BUA: SrfTypes['createB2BUA'];
  proxyRequest: SrfTypes['proxyRequest'];
  /** Internals used by a few assertions (the agent's socket map). */
  _app: { client: { mapServer: Map<unknown, unknown> } };
}

/** srf.request with the signature drachtio-srf really has (its typings describe another one). */
export function sendRequest(
  srf: SrfApp,
  uri: string,
  opts: {
    method: string;
    headers?: Record<string, string>;
    body?: string;
    auth?: { username: string; password: string };
  },
  callback: (err: Error | null, req: SrfRequest | undefined) => void,
): void {
  (srf.request as unknown as (u: string, o: object, cb: typeof callback) => void)(uri, opts, callback);
}

const require = createRequire(import.meta.url);
export const Srf = require('drachtio-srf') as new (tags?: string | string[]) => SrfApp;
