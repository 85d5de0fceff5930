import type { ScannerDetector } from '../access/scanner.ts';
import { replyStateless } from '../sip/reply.ts';
import type { Middleware } from '../sip/request.ts';

/** Known SIP scanners (friendly-scanner, sipvicious, ...) get one stateless 403 and nothing else. */
export function scannerFilter(detector: ScannerDetector): Middleware {
  return (req, res, next) => {
    if (detector.isScanner(req.get('User-Agent')) || detector.isScanner(req.get('Server'))) {
      return replyStateless(res, 403, 'Forbidden');
    }
    next();
  };
}
