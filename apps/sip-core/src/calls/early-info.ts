import type Srf from 'drachtio-srf';
import type { ActiveCalls } from './active-calls.ts';

/**
 * INFO requests drachtio-srf hands over as new requests: those in no dialog it knows, which is the
 * case for the caller's early dialog of an unanswered call (our 180/183's To tag), where an
 * auto-attendant's greeting plays and phones send their keys as INFO. A key there goes to the call
 * (`Call.earlyInfo`); an INFO naming no call of ours gets 481 (RFC 3261 §12.2.2).
 */
export function earlyInfoHandler(
  calls: Pick<ActiveCalls, 'get'>,
): (req: Srf.SrfRequest, res: Srf.SrfResponse) => void {
  return (req, res) => {
    const call = calls.get(req.get('Call-ID') ?? '');
    if (call?.earlyInfo(req, res)) return;
    res.send(481);
  };
}
