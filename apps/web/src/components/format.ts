/** Renders an ISO timestamp in the browser's locale, or a dash. */
export function formatTime(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : '–';
}

/** Milliseconds as m:ss. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * A dialled party as a person reads it: the number when the SIP URI's user part is one (`sip:+4311001@host;
 * transport=udp` → `+4311001`), else the URI without its parameters and headers (`sip:bob@example.com`).
 */
export function dialled(value: string): string {
  const match = /^<?(sips?|tel):([^;?>]*)/i.exec(value.trim());
  if (!match) return value;
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  if (scheme === 'tel') return rest;
  const at = rest.lastIndexOf('@');
  const user = at < 0 ? '' : rest.slice(0, at);
  if (/^\+?[0-9*#]+$/.test(user)) return user;
  return `${scheme}:${rest}`;
}
