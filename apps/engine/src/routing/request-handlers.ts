import { type SipRequest, SipUri } from '@switchboard/sip';

/**
 * drachtio-server's request handlers: instead of handing a new request to one of the connected apps that
 * routed its method, the engine asks where it should go. A handler is configured per SIP method (or `*`):
 *
 * - `tcp://host:port` or `tls://host:port`: connect to an app listening there (drachtio-srf `Srf.listen`) and
 *   hand it the request;
 * - `http://...` or `https://...`: ask a web service, which answers with a JSON routing instruction:
 *   `{"action":"reject","data":{"status":403,"reason":"Forbidden"}}`,
 *   `{"action":"redirect","data":{"contact":"sip:..." | ["sip:...", ...]}}`,
 *   `{"action":"proxy","data":{"destination": "sip:..." | [...], "recordRoute", "followRedirects",
 *   "simultaneous", "provisionalTimeout", "finalTimeout"}}`,
 *   `{"action":"route","data":{"uri":"host:port[;transport=tcp]"}}` (connect out to that app) or
 *   `{"action":"route","data":{"tag":"name"}}` (one of the connected apps that authenticated with that tag
 *   and routed the method).
 *
 * A GET carries the request's facts in the query string, as drachtio-server sends them
 * (`/?method=INVITE&domain=...&protocol=udp&source_address=...&fromUser=...&toUser=...&uriUser=...
 * &contentType=...&uri=...` plus the Request-URI's parameters); a POST sends the same URL with the SIP
 * message as its body.
 */

export interface RequestHandler {
  /** SIP method in upper case, or `*` for every method without its own handler. */
  method: string;
  url: string;
  /** For http(s) URLs; GET by default, as in drachtio-server. */
  httpMethod?: 'GET' | 'POST';
}

export type RoutingInstruction =
  | { action: 'reject'; status: number; reason: string | undefined }
  | { action: 'redirect'; contacts: string[] }
  | {
      action: 'proxy';
      destinations: string[];
      recordRoute: boolean;
      followRedirects: boolean;
      simultaneous: boolean;
      provisionalTimeout: string;
      finalTimeout: string;
    }
  | { action: 'connect'; host: string; port: number; tls: boolean }
  | { action: 'tag'; tag: string };

export class RoutingError extends Error {
  override name = 'RoutingError';
}

/** The handler for a method: its own, else the `*` one (drachtio-server's RequestRouter). */
export function handlerFor(handlers: readonly RequestHandler[], method: string): RequestHandler | undefined {
  const m = method.toUpperCase();
  return handlers.find((h) => h.method.toUpperCase() === m) ?? handlers.find((h) => h.method === '*');
}

/** What the request is, as query parameters, in drachtio-server's order and names. */
export function routingQuery(request: SipRequest, protocol: string, sourceAddress: string): URLSearchParams {
  const sip = (u: unknown): SipUri | undefined => (u instanceof SipUri ? u : undefined);
  const uri = sip(request.uri);
  const q = new URLSearchParams();
  q.append('method', request.method);
  q.append('domain', uri?.host ?? '');
  q.append('protocol', protocol);
  q.append('source_address', sourceAddress);
  q.append('fromUser', sip(request.from.uri)?.user ?? '');
  q.append('toUser', sip(request.to.uri)?.user ?? '');
  q.append('uriUser', uri?.user ?? '');
  q.append('contentType', (request.getHeader('content-type') ?? '').split(';')[0]!.trim());
  q.append('uri', request.uri.toString());
  for (const p of uri?.params.list ?? []) q.append(p.name, p.value ?? '');
  return q;
}

/**
 * Asks the handler where the request goes. `tcp://` needs no question; an HTTP handler must answer 2xx with
 * a JSON instruction within timeoutMs. Throws RoutingError for anything unusable.
 */
export async function fetchInstruction(
  handler: RequestHandler,
  request: SipRequest,
  raw: string,
  protocol: string,
  sourceAddress: string,
  timeoutMs = 5_000,
): Promise<RoutingInstruction> {
  const outbound = /^(tcp|tls):\/\/(.+)$/i.exec(handler.url);
  if (outbound) return connectInstruction(`${outbound[2]};transport=${outbound[1]!.toLowerCase()}`);
  if (!/^https?:\/\//i.test(handler.url))
    throw new RoutingError(`unsupported request handler ${handler.url}`);
  const url = `${handler.url.replace(/\/$/, '')}/?${routingQuery(request, protocol, sourceAddress).toString()}`;
  const post = handler.httpMethod === 'POST';
  let response: Response;
  try {
    response = await fetch(url, {
      method: post ? 'POST' : 'GET',
      ...(post ? { body: raw, headers: { 'Content-Type': 'application/sip' } } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new RoutingError(`request handler did not answer: ${(err as Error).message}`);
  }
  if (!response.ok) throw new RoutingError(`request handler answered HTTP ${response.status}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new RoutingError('request handler answered something that is not JSON');
  }
  return parseInstruction(body);
}

/** The JSON answer of a request handler (drachtio-server's httpCallRoutingComplete). */
export function parseInstruction(body: unknown): RoutingInstruction {
  if (typeof body !== 'object' || body === null) throw new RoutingError('expected a JSON object');
  const { action, data } = body as { action?: unknown; data?: unknown };
  if (typeof action !== 'string') throw new RoutingError("missing or invalid 'action'");
  if (typeof data !== 'object' || data === null) throw new RoutingError("missing 'data' object");
  const d = data as Record<string, unknown>;
  const strings = (v: unknown, what: string): string[] => {
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
    throw new RoutingError(`'${what}' must be a string or an array of strings`);
  };
  switch (action) {
    case 'reject': {
      const status = d.status;
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 300 || status > 699)
        throw new RoutingError("'status' must be a final status code, 300-699");
      return { action, status, reason: typeof d.reason === 'string' ? d.reason : undefined };
    }
    case 'redirect':
      return { action, contacts: strings(d.contact, 'contact') };
    case 'proxy':
      return {
        action,
        destinations: strings(d.destination, 'destination'),
        recordRoute: d.recordRoute === true,
        // drachtio-server follows redirects unless told not to
        followRedirects: d.followRedirects !== false,
        simultaneous: d.simultaneous === true,
        provisionalTimeout: typeof d.provisionalTimeout === 'string' ? d.provisionalTimeout : '5s',
        finalTimeout: typeof d.finalTimeout === 'string' ? d.finalTimeout : '60s',
      };
    case 'route':
      if (typeof d.uri === 'string') return connectInstruction(d.uri);
      if (typeof d.tag === 'string' && d.tag !== '') return { action: 'tag', tag: d.tag };
      throw new RoutingError("'uri' or 'tag' is missing or is not a string");
    default:
      throw new RoutingError(`invalid action '${action}': expected reject, redirect, proxy or route`);
  }
}

/** `host:port[;transport=tcp|tls]`: the app listens with `Srf.listen`, over TLS when it was given a certificate. */
function connectInstruction(target: string): RoutingInstruction {
  const m = /^(\[[^\]]+\]|[^:;/]+):(\d{1,5})(?:;transport=(\w+))?\/?$/i.exec(target.trim());
  if (!m) throw new RoutingError(`invalid app address '${target}': expected host:port`);
  const transport = (m[3] ?? 'tcp').toLowerCase();
  if (transport !== 'tcp' && transport !== 'tls')
    throw new RoutingError(`transport ${transport} to apps is not supported`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new RoutingError(`invalid port in '${target}'`);
  return { action: 'connect', host: m[1]!.replace(/^\[|\]$/g, ''), port, tls: transport === 'tls' };
}
