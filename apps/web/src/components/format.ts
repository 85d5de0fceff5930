/** Renders an ISO timestamp in the browser's locale, or a dash. */
export function formatTime(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : '–';
}

/** Milliseconds as m:ss. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
