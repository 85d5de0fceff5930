/**
 * A copy of a string that shares no memory with the text it was cut from. V8 keeps a substring of 13
 * characters or more as a slice that points into its parent, and a concatenation as a tree of its parts:
 * a Call-ID or a branch read from a message and kept for the life of a dialog, a binding or a Timer J
 * would keep the whole message text alive with it.
 */
export function detached(value: string): string {
  return value.length < 13 ? value : Buffer.from(value, 'utf8').toString('utf8');
}
