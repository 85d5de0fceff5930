import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import { takeInfoKey } from '../calls/dtmf-info.ts';

/**
 * Keys a party sends as in-dialog INFO (`application/dtmf-relay` or `application/dtmf`, `takeInfoKey`; RFC 6086
 * for INFO itself) reach the on-demand recording as the relay's RFC 4733 reports do: each key answered 200 and
 * handed to `key` with the sending leg's tag; another body is answered 415 naming the types taken
 * (RFC 6086 §4.2.2). A leg whose INFO is already handled (a peer's DTMF relay policy) is left alone.
 */
export function listenForInfoKeys(
  legs: Array<{ dialog: Srf.Dialog; tag: string | undefined }>,
  key: (tag: string, key: string) => void,
  log: Logger,
): void {
  for (const { dialog, tag } of legs) {
    if (!tag || dialog.listenerCount('info') > 0) continue;
    dialog.on('info', (req: Srf.SrfRequest, res: Srf.SrfResponse) =>
      takeInfoKey(req, res, (code) => {
        log.debug({ tag, key: code }, 'INFO key');
        key(tag, code);
      }),
    );
  }
}
