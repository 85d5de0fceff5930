import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import { parseDtmfRelay } from '../calls/dtmf-info.ts';

/**
 * Keys a party sends as in-dialog INFO (`application/dtmf-relay`, the de facto format; RFC 6086 for INFO
 * itself) reach the on-demand recording as the relay's RFC 4733 reports do: each key answered 200 and
 * handed to `key` with the sending leg's tag; another body is answered 415 naming the one type taken
 * (RFC 6086 §4.2.2). A leg whose INFO is already handled (a peer's DTMF relay policy) is left alone.
 */
export function listenForInfoKeys(
  legs: Array<{ dialog: Srf.Dialog; tag: string | undefined }>,
  key: (tag: string, key: string) => void,
  log: Logger,
): void {
  for (const { dialog, tag } of legs) {
    if (!tag || dialog.listenerCount('info') > 0) continue;
    dialog.on('info', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
      const pressed = parseDtmfRelay(req.get('Content-Type'), req.body);
      if (!pressed) {
        res.send(415, 'Unsupported Media Type', { headers: { Accept: 'application/dtmf-relay' } });
        return;
      }
      res.send(200);
      log.debug({ tag, key: pressed.code }, 'INFO key');
      key(tag, pressed.code);
    });
  }
}
