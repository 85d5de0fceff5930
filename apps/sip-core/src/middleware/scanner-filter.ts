import type { ScannerDetector } from '../access/scanner.ts';
import type { Middleware } from '../sip/request.ts';

/** Known SIP scanners (friendly-scanner, sipvicious, ...) get 403 and nothing else. */
export function scannerFilter(detector: ScannerDetector): Middleware {
  return (req, res, next) => {
    if (detector.isScanner(req.get('User-Agent')) || detector.isScanner(req.get('Server'))) {
      return res.send(403, 'Forbidden');
    }
    next();
  };
}
