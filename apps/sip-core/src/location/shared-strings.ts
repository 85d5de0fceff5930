import { detached } from '@switchboard/sip';

/** `before` when it is the same text (a string already held), else a detached copy of `value`. */
export function heldOrDetached(value: string, before: string | undefined): string {
  return value === before ? before : detached(value);
}

/** Distinct values kept by one SharedStrings; past this, values are only detached, not shared. */
const MAX_SHARED = 10_000;

/**
 * One instance of each of the strings that repeat across bindings (the local socket, the node, the
 * transport, common User-Agent values), so that many bindings keep one copy of each rather than one
 * per binding. Bounded, so that values that do not repeat (a User-Agent with a serial number in it)
 * cannot grow it without end.
 */
export class SharedStrings {
  private readonly strings = new Map<string, string>();

  get<T extends string | null>(value: T): T {
    if (value === null) return value;
    const known = this.strings.get(value);
    if (known !== undefined) return known as T;
    const own = detached(value);
    if (this.strings.size < MAX_SHARED) this.strings.set(own, own);
    return own as T;
  }
}
