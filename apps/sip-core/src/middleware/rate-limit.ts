import type { RateLimiter } from '../access/rate-limiter.ts';
import { refuseSilently } from '../sip/reply.ts';
import type { Middleware } from '../sip/request.ts';

/**
 * A source over its token bucket is refused, trusted ones never: over UDP silently (a flood with a
 * forged source must not be reflected), over TCP/TLS/WS with 503 and Retry-After (RFC 3261 §21.5.4).
 */
export function rateLimit(limiter: RateLimiter): Middleware {
  return (req, res, next) => {
    const { source } = req.locals;
    if (!source.trusted && !limiter.take(source.address)) {
      return refuseSilently(req, res, 503, 'Service Unavailable', { 'Retry-After': '10' });
    }
    next();
  };
}
