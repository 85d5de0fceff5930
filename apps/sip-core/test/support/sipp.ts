import { fileURLToPath } from 'node:url';
import {
  allocatePort as allocate,
  runSipp as run,
  type SippOptions,
  type SippResult,
} from '@switchboard/testkit';

export { type SippResult, stopAllSipp } from '@switchboard/testkit';

/** Registrar scenarios kept in the repository, next to this folder. */
export const SCENARIO_DIR = fileURLToPath(new URL('../sipp/', import.meta.url));

/**
 * Runs one bounded sipp UAC (UDP) of the registrar scenarios to completion on a fresh port of
 * 17000-17999 (with the next one for its control socket).
 */
export async function runSipp(options: Omit<SippOptions, 'scenarioDir' | 'port'>): Promise<SippResult> {
  const port = await allocate({ address: options.localAddress, count: 2, min: 17000, max: 17999 });
  return run({
    rate: 10,
    traceErrors: true,
    controlPort: port + 1,
    ...options,
    port,
    scenarioDir: SCENARIO_DIR,
  });
}

/** A UDP port in 17000-17999 free on `address` (another loopback address stands for another host). */
export function allocatePort(address = '127.0.0.1'): Promise<number> {
  return allocate({ address, min: 17000, max: 17999 });
}
