import {
  parseCallId,
  parseCSeq,
  parseMaxForwards,
  parseNameAddr,
  parseUri,
  parseVia,
  SipParseError,
  type SipRequest,
  textToWire,
} from '@switchboard/sip';
import { replyStateless } from '../sip/reply.ts';
import type { IncomingRequest, Middleware, ParsedRequest } from '../sip/request.ts';

class Insane extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function required(req: IncomingRequest, name: string): string {
  const value = req.get(name);
  if (value === undefined || value.trim() === '') throw new Insane(400, `Missing ${name}`);
  return value;
}

/** Parses what every later stage relies on, or says precisely what is wrong with it. */
export function parseRequest(req: IncomingRequest): ParsedRequest {
  try {
    const message = req.message;
    if (message !== undefined) return fromMessage(req, message);
    const requestUri = parseUri(req.uri);
    if (requestUri.kind !== 'sip') throw new Insane(416, 'Unsupported URI Scheme');
    const cseq = parseCSeq(required(req, 'CSeq'));
    if (cseq.method !== req.method) throw new Insane(400, 'CSeq method does not match');
    const maxForwards = req.get('Max-Forwards');
    // RFC 3261 §16.3 step 2 / §8.2: a request that used up its hops ends here, except OPTIONS to us.
    if (maxForwards !== undefined && parseMaxForwards(maxForwards) === 0 && req.method !== 'OPTIONS')
      throw new Insane(483, 'Too Many Hops');
    // Header text is decoded (UTF-8); the SIP parser reads wire strings, one character per byte.
    const to = parseNameAddr(textToWire(required(req, 'To')), 'to');
    const from = parseNameAddr(textToWire(required(req, 'From')), 'from');
    if (to.uri.kind === 'absolute' || from.uri.kind === 'absolute')
      throw new Insane(416, 'Unsupported URI Scheme');
    return {
      callId: parseCallId(required(req, 'Call-ID')),
      cseq,
      from,
      to,
      vias: parseVia(required(req, 'Via')),
      requestUri,
      userAgent: req.get('User-Agent'),
    };
  } catch (error) {
    if (error instanceof Insane) throw error;
    if (error instanceof SipParseError) throw new Insane(400, `Bad Request (${error.message.slice(0, 80)})`);
    throw error;
  }
}

/**
 * The same checks and values from the engine's parse of the message (engine in this process): its typed
 * views are read, not the header text parsed a second time. The engine let the message in only with
 * Via, From, To, Call-ID and CSeq present.
 */
function fromMessage(req: IncomingRequest, message: SipRequest): ParsedRequest {
  const requestUri = message.uri;
  if (requestUri.kind !== 'sip') throw new Insane(416, 'Unsupported URI Scheme');
  const cseq = message.cseq;
  if (cseq.method !== req.method) throw new Insane(400, 'CSeq method does not match');
  if (message.maxForwards === 0 && req.method !== 'OPTIONS') throw new Insane(483, 'Too Many Hops');
  const to = message.to;
  const from = message.from;
  if (to.uri.kind === 'absolute' || from.uri.kind === 'absolute')
    throw new Insane(416, 'Unsupported URI Scheme');
  return {
    callId: message.callId,
    cseq,
    from,
    to,
    vias: message.via,
    requestUri,
    userAgent: req.get('User-Agent'),
  };
}

/** Answers malformed requests with one stateless 4xx so that no later stage sees them. */
export function sanity(): Middleware {
  return (req, res, next) => {
    try {
      req.locals.parsed = parseRequest(req);
    } catch (error) {
      if (error instanceof Insane)
        return replyStateless(res, error.status, error.reason.replace(/[\r\n]/g, ' '));
      throw error;
    }
    next();
  };
}
