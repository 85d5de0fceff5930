import type { RateLimiter } from '../access/rate-limiter.ts';
import type { Middleware } from '../sip/request.ts';

/** A source over its token bucket gets 503 with Retry-After (RFC 3261 §21.5.4), trusted ones never. */
export function rateLimit(limiter: RateLimiter): Middleware {
  return (req, res, next) => {
    const { source } = req.locals;
    if (!source.trusted && !limiter.take(source.address)) {
      return res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '10' } });
    }
    next();
  };
}
