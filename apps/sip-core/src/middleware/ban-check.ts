import type { BanService } from '../access/ban-service.ts';
import type { Middleware } from '../sip/request.ts';

/**
 * Banned sources get 403 Forbidden, without a challenge and before any parsing. (A silent drop
 * would leave the engine's server transaction to time out and gives a UDP sender no less
 * information than a 403, so we answer.) Each refusal counts as a hit of the ban.
 */
export function banCheck(bans: BanService): Middleware {
  return (req, res, next) => {
    const { source } = req.locals;
    if (!source.trusted) {
      const ban = bans.banOf(source.address);
      if (ban !== undefined) {
        bans.recordHit(ban);
        return res.send(403, 'Forbidden');
      }
    }
    next();
  };
}
