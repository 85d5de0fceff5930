import type { Directory } from '../directory/directory.ts';
import { replyStateless } from '../sip/reply.ts';
import { type Middleware, parsedOf } from '../sip/request.ts';

/**
 * No open relay: a REGISTER must be for one of our domains (RFC 3261 §10.3 step 1). The AOR's
 * domain (To) must be ours, and the Request-URI must name the same domain or an address literal
 * (phones often register to the server's IP). Anything else gets one stateless 403 before any
 * challenge, so a stranger learns nothing about our users.
 */
export function domainCheck(directory: Pick<Directory, 'servesDomain' | 'lookupDomain'>): Middleware {
  return (req, res, next) => {
    const { to, requestUri } = parsedOf(req);
    if (to.uri.kind !== 'sip') return replyStateless(res, 403, 'Forbidden');
    const domain = to.uri.host.toLowerCase();
    if (requestUri.hostType === 'domain' && requestUri.host.toLowerCase() !== domain)
      return replyStateless(res, 403, 'Domain Not Served');
    if (directory.servesDomain(domain)) return next();
    // Not in memory: perhaps created a moment ago, its change still on the way (docs/registrar.md).
    directory.lookupDomain(domain).then(
      (served) => (served ? next() : replyStateless(res, 403, 'Domain Not Served')),
      (error: unknown) => next(error),
    );
  };
}
