import { fileURLToPath } from 'node:url';
import { allocatePort as allocate, type SippOptions, type SippRun, startSipp } from '@switchboard/testkit';
import { diffPortRange } from './differential/server-under-test.ts';

export { type SippResult, type SippRun, stopAllSipp } from '@switchboard/testkit';

/** The contract tests' far-end scenarios, kept next to this file. */
export const SCENARIO_DIR = fileURLToPath(new URL('./sipp/', import.meta.url));

/** A far end for a contract test: a scenario of this folder, sipp's `service` user, 20 s at most. */
export function runSipp(options: Omit<SippOptions, 'scenarioDir'>): SippRun {
  return startSipp({ service: 'service', timeoutS: 20, ...options, scenarioDir: SCENARIO_DIR });
}

/** Free for UDP and TCP: the contract tests run over both. A differential run gives its own range. */
export function allocatePort(): Promise<number> {
  return allocate({ tcp: true, ...(diffPortRange() ?? {}) });
}
