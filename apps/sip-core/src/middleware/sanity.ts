import {
  parseCallId,
  parseCSeq,
  parseMaxForwards,
  parseNameAddr,
  parseUri,
  parseVia,
  SipParseError,
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
    const requestUri = parseUri(req.uri);
    if (requestUri.kind !== 'sip') throw new Insane(416, 'Unsupported URI Scheme');
    const cseq = parseCSeq(required(req, 'CSeq'));
    if (cseq.method !== req.method) throw new Insane(400, 'CSeq method does not match');
    const maxForwards = req.get('Max-Forwards');
    // RFC 3261 §16.3 step 2 / §8.2: a request that used up its hops ends here, except OPTIONS to us.
    if (maxForwards !== undefined && parseMaxForwards(maxForwards) === 0 && req.method !== 'OPTIONS')
      throw new Insane(483, 'Too Many Hops');
    const to = parseNameAddr(required(req, 'To'), 'to');
    const from = parseNameAddr(required(req, 'From'), 'from');
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
