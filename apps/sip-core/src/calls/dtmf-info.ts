import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';

/** One key of a DTMF INFO (`application/dtmf-relay` or `application/dtmf`). */
export interface DtmfKey {
  code: string;
  durationMs: number;
}

/** How long a key is played when the INFO names no duration, and the bounds kept to. */
const DEFAULT_DURATION_MS = 160;
const MIN_DURATION_MS = 40;
const MAX_DURATION_MS = 2000;
/**
 * The longest key played into the call. Measured with rtpengine 10.5: towards an Opus leg that has no
 * telephone-event at 48 kHz (a phone offering telephone-event/8000 next to Opus is answered without
 * events) the relay renders the key as in-band tones and fails above one 8 kHz buffer of 48 kHz
 * samples ("Cannot generate 12000 DTMF samples (clock rate 8000)" for 250 ms, while its NG reply still
 * says ok); 160 ms (7,680 samples) is played. 160 ms is well above the 40 ms a receiver needs.
 */
const MAX_PLAYED_MS = 160;

/** The INFO body types read as keys, named in a 415's Accept (RFC 6086 §4.2.2). */
export const DTMF_INFO_TYPES = 'application/dtmf-relay, application/dtmf';

/** RFC 4733 §3.2 events 0-15: 0-9, *, #, A-D. */
const KEY = /^[0-9*#A-Da-d]$/;

/**
 * The key of an INFO body, in either form phones and carriers send (neither has an RFC; RFC 6086 left
 * them as legacy usages): `application/dtmf-relay`, `Signal=5` and `Duration=160` lines (the duration
 * in ms), or `application/dtmf`, the key alone as the body. Anything else (another content type, an
 * event outside 0-9, *, #, A-D) is not a key.
 */
export function parseDtmfInfo(
  contentType: string | undefined,
  body: string | undefined,
): DtmfKey | undefined {
  const type = contentType?.trim() ?? '';
  if (!body) return undefined;
  if (/^application\/dtmf\s*(;|$)/i.test(type)) {
    const code = body.trim();
    return KEY.test(code) ? { code: code.toUpperCase(), durationMs: DEFAULT_DURATION_MS } : undefined;
  }
  if (!/^application\/dtmf-relay\b/i.test(type)) return undefined;
  const signal = /^\s*signal\s*=\s*(\S+)\s*$/im.exec(body)?.[1];
  if (!signal || !KEY.test(signal)) return undefined;
  const duration = Number(/^\s*duration\s*=\s*(\d+)\s*$/im.exec(body)?.[1] ?? DEFAULT_DURATION_MS);
  const durationMs = Math.min(MAX_DURATION_MS, Math.max(MIN_DURATION_MS, duration));
  return { code: signal.toUpperCase(), durationMs };
}

/** The answer to an INFO whose body is no key: 415 naming the types taken (RFC 6086 §4.2.2). */
export function refuseInfoBody(res: Srf.SrfResponse): void {
  res.send(415, 'Unsupported Media Type', { headers: { Accept: DTMF_INFO_TYPES } });
}

/**
 * An INFO carrying a key for a feature of ours that listens (a menu, the recording code): answered 200
 * and handed to `key`; another body 415 (`refuseInfoBody`).
 */
export function takeInfoKey(req: Srf.SrfRequest, res: Srf.SrfResponse, key: (code: string) => void): void {
  const pressed = parseDtmfInfo(req.get('Content-Type'), req.body);
  if (!pressed) {
    refuseInfoBody(res);
    return;
  }
  res.send(200);
  key(pressed.code);
}

/**
 * An in-dialog INFO from a leg that signals DTMF this way (its peer policy's `dtmfInfo`): a key is
 * answered 200 and played into the call as RFC 4733 events towards the other side; a body that is not
 * a key is answered 415 with the one type taken (RFC 6086 §4.2.2), a key the relay could not play 500.
 */
export async function answerDtmfInfo(
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  play: (key: DtmfKey) => Promise<void>,
  log: Logger,
): Promise<void> {
  const key = parseDtmfInfo(req.get('Content-Type'), req.body);
  if (!key) {
    refuseInfoBody(res);
    return;
  }
  try {
    await play({ ...key, durationMs: Math.min(key.durationMs, MAX_PLAYED_MS) });
    res.send(200);
    log.info({ key: key.code, durationMs: key.durationMs }, 'INFO DTMF played as RFC 4733 events');
  } catch (error) {
    log.warn({ err: error }, 'INFO DTMF could not be played');
    res.send(500);
  }
}
