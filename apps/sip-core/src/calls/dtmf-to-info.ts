import type { DtmfEvent, DtmfFeed } from '@switchboard/media';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { DtmfKey } from './dtmf-info.ts';
import type { InDialogRequester } from './srf-dialog.ts';

/** What a key lasts in the INFO when the relay reported none (an end packet only). */
const DEFAULT_DURATION_MS = 160;

/**
 * The body of an INFO carrying one key in the `application/dtmf-relay` format (no RFC; the de facto
 * form carriers parse: `Signal=` and `Duration=` in ms, CRLF-terminated lines), the inverse of
 * `parseDtmfInfo`.
 */
export function dtmfRelayBody(key: DtmfKey): string {
  return `Signal=${key.code}\r\nDuration=${key.durationMs}\r\n`;
}

/**
 * Turns one side's RFC 4733 keys into INFO requests (RFC 6086 §4.2.1: an INFO inside the invite
 * dialog) towards the other leg when it signals DTMF by INFO (its policy's `dtmfInfo`): the caller's
 * keys towards a called carrier, the callee's towards a calling one. The keys come from the relay's
 * DTMF feed (rtpengine `dtmf-log-dest`), for the relay's call-id, sent by that side's tag.
 * INFOs go one at a time (the next after the previous one's final answer), so that keys keep their
 * order at the carrier. Returns the function that stops it (the call's end).
 */
export function relayKeysAsInfo(options: {
  feed: DtmfFeed;
  callId: string;
  /** The tag of the side whose keys are sent: keys from the other side are not. */
  sourceTag: string;
  dialog: Srf.Dialog;
  log: Logger;
}): () => void {
  const { feed, callId, sourceTag, dialog, log } = options;
  let queue: Promise<void> = Promise.resolve();
  let stopped = false;
  const send = (event: DtmfEvent): Promise<void> => {
    if (stopped) return Promise.resolve();
    const key = { code: event.code, durationMs: event.durationMs || DEFAULT_DURATION_MS };
    return new Promise<void>((resolve) => {
      (dialog as unknown as InDialogRequester).request(
        {
          method: 'INFO',
          headers: { 'Content-Type': 'application/dtmf-relay' },
          body: dtmfRelayBody(key),
        },
        (error, response) => {
          if (error) {
            log.warn({ err: error, key: key.code }, 'DTMF INFO could not be sent');
            resolve();
          } else if (response.status >= 200) {
            if (response.status >= 300)
              log.warn({ status: response.status, key: key.code }, 'DTMF INFO refused');
            else log.info({ key: key.code, durationMs: key.durationMs }, 'RFC 4733 key sent as INFO');
            resolve();
          }
        },
      );
    });
  };
  const unsubscribe = feed.subscribe(callId, (event) => {
    if (event.sourceTag !== sourceTag) return;
    queue = queue.then(() => send(event));
  });
  return () => {
    stopped = true;
    unsubscribe();
  };
}
