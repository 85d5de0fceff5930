import type { BanService } from '../access/ban-service.ts';
import { refuseSilently } from '../sip/reply.ts';
import type { Middleware } from '../sip/request.ts';

/**
 * Banned sources are refused before any parsing and without a challenge: over UDP silently (the
 * source may be forged, and an answer would only feed a reflection), over TCP/TLS/WS with one 403.
 * Each refusal counts as a hit of the ban.
 */
export function banCheck(bans: BanService): Middleware {
  return (req, res, next) => {
    const { source } = req.locals;
    if (!source.trusted) {
      const ban = bans.banOf(source.address);
      if (ban !== undefined) {
        bans.recordHit(ban);
        return refuseSilently(req, res, 403, 'Forbidden');
      }
    }
    next();
  };
}
