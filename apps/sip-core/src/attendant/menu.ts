import type { MediaSession } from '@switchboard/media-endpoint';
import type { AttendantDestination } from '../calls/attendants.ts';

/** What the caller chose: a menu entry, nothing in time (or only digits without an entry), or hung up. */
export type MenuChoice =
  | { kind: 'digit'; digit: string; destination: AttendantDestination }
  | { kind: 'timeout'; invalidDigits: string }
  | { kind: 'closed' };

export interface MenuSettings {
  /** The greeting's WAV file (8 kHz mono 16-bit). */
  greeting: string;
  /** How long to wait for a digit once the greeting ended. */
  digitTimeoutMs: number;
  /** Times the greeting plays again after a digit without an entry. */
  maxReplays: number;
  menu: ReadonlyMap<string, AttendantDestination>;
}

/**
 * An auto-attendant's menu: the greeting (a digit interrupts it; one typed before is kept), then one
 * RFC 4733 digit. A digit with a menu entry is the choice; a digit without one plays the greeting
 * again, up to `maxReplays` times, and then counts as no choice; no digit in time is no choice.
 */
export async function runMenu(session: MediaSession, settings: MenuSettings): Promise<MenuChoice> {
  let invalidDigits = '';
  for (let round = 0; round <= settings.maxReplays; round++) {
    // A greeting that could not be made (espeak-ng missing) is silence: the digits still work.
    const played = await session
      .play(settings.greeting, { interruptible: true })
      .catch(() => 'done' as const);
    if (played === 'closed') return { kind: 'closed' };
    const digit = await session.nextDigit(settings.digitTimeoutMs);
    if (session.isClosed) return { kind: 'closed' };
    if (digit === undefined) return { kind: 'timeout', invalidDigits };
    const destination = settings.menu.get(digit);
    if (destination) return { kind: 'digit', digit, destination };
    invalidDigits += digit;
  }
  return { kind: 'timeout', invalidDigits };
}
