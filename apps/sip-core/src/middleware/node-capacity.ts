import type { ActiveCalls } from '../calls/active-calls.ts';
import type { CallsConfig } from '../calls/calls-config.ts';
import { type Middleware, parsedOf } from '../sip/request.ts';

/**
 * A new call (an INVITE without a To tag) is turned away with 503 and Retry-After while the node is at
 * its own limits (calls.maxConcurrent, calls.maxPerSecond), before its digest is challenged or
 * checked: past its capacity a node spends on a refusal a fraction of what it spends on a call, so it
 * keeps carrying the calls it took. Re-INVITEs and other requests of a dialog pass. The admit stage
 * counts each admitted call against the same limits.
 */
export function nodeCapacity(calls: Pick<ActiveCalls, 'nodeAtCapacity'>, config: CallsConfig): Middleware {
  return (req, res, next) => {
    if (parsedOf(req).to.tag !== undefined) return next();
    const refusal = calls.nodeAtCapacity(config);
    if (refusal === undefined) return next();
    const retry = refusal.retryAfter;
    res.send(
      refusal.status,
      refusal.reason,
      retry ? { headers: { 'Retry-After': String(retry) } } : undefined,
    );
  };
}
