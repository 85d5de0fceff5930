import type { PeerSource } from '@switchboard/numbering';
import type { CSeq, NameAddr, SipRequest, SipUri, Via } from '@switchboard/sip';
import type Srf from 'drachtio-srf';
import type { InvitePlan } from '../calls/plan.ts';
import type { CachedSubscriber } from '../directory/directory.ts';
import type { BindingTransport } from '../location/binding.ts';

/** The drachtio-srf objects of a request, which a B2BUA hands back to drachtio-srf (createUAS). */
export interface SrfExchange {
  req: Srf.SrfRequest;
  res: Srf.SrfResponse;
}

/**
 * A request as the chain's middlewares see it, for every method (`RequestView` adapts drachtio-srf's;
 * unit tests build small fakes of the same shape). Named apart from the SIP library's `SipRequest`,
 * the parsed message.
 */
export interface IncomingRequest {
  method: string;
  uri: string;
  /** Address and port the request came from (the engine's view of the packet). */
  source_address: string;
  source_port: number;
  /** Transport it came over: `udp`, `tcp`, `tls`, `ws`, `wss`. */
  protocol: string;
  /** `host:port` of the engine socket that received it, when the engine reports it. */
  receivedOn?: string;
  /** Header value; several values of one header come comma-joined. */
  get(name: string): string | undefined;
  has(name: string): boolean;
  /** Every header in message order (several values of one name comma-joined); absent in fakes. */
  headerEntries?(): Array<[string, string]>;
  /** What `get` and `has` answer from now on (inbound header rules, docs/sbc.md). */
  replaceHeaders?(entries: Array<[string, string]>): void;
  /**
   * The engine's parsed message, when the engine runs in this process and hands the request over as it
   * parsed it (sip/local-engine.ts); unset once inbound header rules replaced the headers. Read only: its
   * typed views are the engine's own, which answers the request from them.
   */
  readonly message?: SipRequest | undefined;
  /** Filled in by the middlewares as the request goes down the chain. */
  locals: RequestLocals;
  /** The drachtio-srf request and response behind this one (absent in unit tests' fakes). */
  readonly srf?: SrfExchange | undefined;
}

export interface SendOptions {
  headers?: Record<string, string>;
}

export interface SipResponse {
  send(status: number, reason?: string, options?: SendOptions): void;
}

export interface RequestSource {
  address: string;
  port: number;
  transport: BindingTransport;
  /** A configured trusted source or a peer gateway: exempt from rate limits, bans and digest. */
  trusted: boolean;
  /** The peer gateway the request came from (set by identify-peer), when it is one. */
  peer?: PeerSource | undefined;
}

/** The headers the sanity check parsed once for every later stage. */
export interface ParsedRequest {
  callId: string;
  cseq: CSeq;
  from: NameAddr;
  to: NameAddr;
  vias: Via[];
  requestUri: SipUri;
  userAgent: string | undefined;
}

/** What the stages learned about the request, in chain order. */
export interface RequestLocals {
  /** Set by identify-source, the first stage. */
  source: RequestSource;
  /** Set by sanity. */
  parsed?: ParsedRequest;
  /** Set by authenticate. */
  subscriber?: CachedSubscriber;
  /** A new call's plan, started by the INVITE's classify stage and filled by the stages after it. */
  invite?: InvitePlan;
}

/** The parsed headers; only stages after sanity may call it. */
export function parsedOf(req: IncomingRequest): ParsedRequest {
  const parsed = req.locals.parsed;
  if (!parsed) throw new Error('middleware order: sanity must run before this stage');
  return parsed;
}

/** The authenticated subscriber; only stages after authenticate may call it. */
export function subscriberOf(req: IncomingRequest): CachedSubscriber {
  const subscriber = req.locals.subscriber;
  if (!subscriber) throw new Error('middleware order: authenticate must run before this stage');
  return subscriber;
}

export type Next = (error?: unknown) => void;

/** A stage of the chain: answers the request, or calls `next()` to hand it on. */
export type Middleware = (req: IncomingRequest, res: SipResponse, next: Next) => void | Promise<void>;
