/** A code is only recognised when its keys follow each other within this time. */
const KEY_GAP_MS = 3_000;

/**
 * Recognises a key sequence (the on-demand recording code, e.g. `*1`) in one party's keys: `press`
 * answers true when the key completes the code, typed with no more than KEY_GAP_MS between keys.
 * Keys of the code that came too late start over.
 */
export class DtmfCode {
  private typed = '';
  private lastAt = 0;

  constructor(private readonly code: string) {}

  press(key: string, now = Date.now()): boolean {
    if (now - this.lastAt > KEY_GAP_MS) this.typed = '';
    this.lastAt = now;
    this.typed = (this.typed + key.toUpperCase()).slice(-this.code.length);
    if (this.typed !== this.code) return false;
    this.typed = '';
    return true;
  }
}

/** A code is one to twelve keys of 0-9, *, #, A-D; anything else is refused (the setting's check). */
export function validDtmfCode(code: string): boolean {
  return /^[0-9*#A-D]{1,12}$/.test(code);
}
