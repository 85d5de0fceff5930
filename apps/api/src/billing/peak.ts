/**
 * Peak or off-peak: a call is peak when its start, read in the profile's time zone, falls in one of the
 * profile's peak periods. Reading a time zone through Intl is slow for a rater doing tens of thousands
 * of calls a second, so the local weekday and minute are cached per 15-minute slot of UTC time (every
 * time zone offset and every daylight-saving switch falls on a quarter hour).
 */

export interface PeakPeriod {
  /** ISO weekday 1 (Monday) .. 7 (Sunday); null: every day. */
  weekday: number | null;
  /** Local minutes after midnight, start inclusive, end exclusive. */
  startMinute: number;
  endMinute: number;
}

const SLOT_MS = 15 * 60_000;
const MAX_CACHED_SLOTS = 20_000;
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** Whether an IANA time zone name is known to this runtime. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export class LocalClock {
  private readonly format: Intl.DateTimeFormat;
  /** Slot number -> weekday * 10000 + local minute at the slot's start. */
  private readonly slots = new Map<number, number>();

  constructor(timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  }

  /** Local ISO weekday and minute of the day at `epochMs`. */
  local(epochMs: number): { weekday: number; minute: number } {
    const packed = this.packed(epochMs);
    return { weekday: Math.floor(packed / 10_000), minute: packed % 10_000 };
  }

  /**
   * `weekday * 10000 + minute` at `epochMs`: the same as `local` without an object per call, for the
   * rater's hot path.
   */
  packed(epochMs: number): number {
    const slot = Math.floor(epochMs / SLOT_MS);
    let packed = this.slots.get(slot);
    if (packed === undefined) {
      packed = this.read(slot * SLOT_MS);
      if (this.slots.size >= MAX_CACHED_SLOTS) this.slots.clear();
      this.slots.set(slot, packed);
    }
    // A slot is 15 minutes from a quarter hour, so adding its minutes never passes local midnight.
    return packed + Math.floor((epochMs - slot * SLOT_MS) / 60_000);
  }

  private read(epochMs: number): number {
    let weekday = 1;
    let hour = 0;
    let minute = 0;
    for (const part of this.format.formatToParts(epochMs)) {
      if (part.type === 'weekday') weekday = WEEKDAYS[part.value] ?? 1;
      else if (part.type === 'hour') hour = Number(part.value);
      else if (part.type === 'minute') minute = Number(part.value);
    }
    return weekday * 10_000 + hour * 60 + minute;
  }
}

export function isPeak(clock: LocalClock, periods: readonly PeakPeriod[], epochMs: number): boolean {
  if (periods.length === 0) return true;
  const packed = clock.packed(epochMs);
  const weekday = Math.floor(packed / 10_000);
  const minute = packed % 10_000;
  for (const p of periods) {
    if (p.weekday !== null && p.weekday !== weekday) continue;
    if (minute >= p.startMinute && minute < p.endMinute) return true;
  }
  return false;
}
