import type { CallInfo } from './payload.ts';
import type { PushBinding, PushResult } from './types.ts';

/** Identifies a device at its push service: `pn-provider`, `pn-prid`, `pn-param` (RFC 8599). */
export function pnsKey(binding: Pick<PushBinding, 'pnProvider' | 'pnPrid' | 'pnParam'>): string | undefined {
  if (!binding.pnProvider || !binding.pnPrid) return undefined;
  return `${binding.pnProvider}\u0000${binding.pnPrid}\u0000${binding.pnParam ?? ''}`;
}

type Listener<B> = (binding: B) => void;

/**
 * Who waits for a woken device to register (RFC 8599: the proxy holds the request until the
 * REGISTER after the push arrives). The registrar calls `registered` after every REGISTER that
 * carries pn-* values; waiters get that binding. In process: a REGISTER through another node
 * reaches this one through the database change feed (sip-core's location service reports it here).
 */
export class PushRegistrations<
  B extends Pick<PushBinding, 'pnProvider' | 'pnPrid' | 'pnParam'> = PushBinding,
> {
  private readonly listeners = new Map<string, Set<Listener<B>>>();

  /** The registrar saw a REGISTER with these pn-* values and stored `binding`. */
  registered(binding: B): void {
    const key = pnsKey(binding);
    if (key === undefined) return;
    const listeners = this.listeners.get(key);
    if (!listeners) return;
    for (const listener of [...listeners]) listener(binding);
  }

  /** Calls `listener` for every REGISTER with `key`'s values until the returned function is called. */
  on(key: string, listener: Listener<B>): () => void {
    let listeners = this.listeners.get(key);
    if (!listeners) {
      listeners = new Set();
      this.listeners.set(key, listeners);
    }
    listeners.add(listener);
    return () => {
      const current = this.listeners.get(key);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(key);
    };
  }

  /**
   * The next binding registered with `key`'s values, or undefined when `timeoutMs` passes or
   * `signal` aborts first (the caller gave up, e.g. the caller hung up).
   */
  waitFor(key: string, timeoutMs: number, signal?: AbortSignal): Promise<B | undefined> {
    return new Promise<B | undefined>((resolve) => {
      if (signal?.aborted) return resolve(undefined);
      const finish = (binding: B | undefined): void => {
        clearTimeout(timer);
        off();
        signal?.removeEventListener('abort', onAbort);
        resolve(binding);
      };
      const onAbort = (): void => finish(undefined);
      const off = this.on(key, finish);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Keys someone waits for (for tests and metrics). */
  get waiting(): number {
    let count = 0;
    for (const listeners of this.listeners.values()) count += listeners.size;
    return count;
  }
}

/** What `wakeAndWait` found: the push's result and, when the device came back in time, its new binding. */
export interface WakeOutcome<B> {
  result: PushResult;
  binding: B | undefined;
}

/**
 * Wakes the device of `binding` and waits for its REGISTER (RFC 8599: the proxy pushes, then
 * forwards the held request to the contact the device registers). The wait starts before the push
 * is sent, so a device that registers at once is not missed; a push that was not delivered ends the
 * wait at once.
 */
export async function wakeAndWait<B extends PushBinding>(
  push: { wake(binding: PushBinding, call: CallInfo): Promise<PushResult> },
  registrations: PushRegistrations<B>,
  binding: B,
  call: CallInfo,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<WakeOutcome<B>> {
  const key = pnsKey(binding);
  if (key === undefined) return { result: await push.wake(binding, call), binding: undefined };
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const registered = registrations.waitFor(key, options.timeoutMs, stop.signal);
    const result = await push.wake(binding, call);
    if (result.outcome !== 'delivered') {
      stop.abort();
      await registered;
      return { result, binding: undefined };
    }
    return { result, binding: await registered };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
