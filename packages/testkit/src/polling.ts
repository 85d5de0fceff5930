/**
 * Polls `probe` every `intervalMs` until it gives a value; fails naming `what` after `timeoutMs`. For
 * waiting on real processes (a platform, a phone, a database) on a shared machine: bounded, never a sleep
 * of a guessed length.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
