import type { Directory } from '../directory/directory.ts';
import { replyStateless } from '../sip/reply.ts';
import { type Middleware, parsedOf } from '../sip/request.ts';

/**
 * No open relay: a REGISTER must be for one of our domains (RFC 3261 §10.3 step 1). The AOR's
 * domain (To) must be ours, and the Request-URI must name the same domain or an address literal
 * (phones often register to the server's IP). Anything else gets one stateless 403 before any
 * challenge, so a stranger learns nothing about our users.
 */
export function domainCheck(directory: Directory): Middleware {
  return (req, res, next) => {
    const { to, requestUri } = parsedOf(req);
    if (to.uri.kind !== 'sip') return replyStateless(res, 403, 'Forbidden');
    const domain = to.uri.host.toLowerCase();
    if (!directory.servesDomain(domain)) return replyStateless(res, 403, 'Domain Not Served');
    const target = requestUri.host.toLowerCase();
    if (requestUri.hostType === 'domain' && target !== domain)
      return replyStateless(res, 403, 'Domain Not Served');
    next();
  };
}
