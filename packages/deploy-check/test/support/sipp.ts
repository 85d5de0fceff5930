import { fileURLToPath } from 'node:url';
import { type SippOptions, type SippResult, startSipp } from '@switchboard/testkit';

export { expectSippOk, type SippResult, stopAllSipp } from '@switchboard/testkit';

const SCENARIOS = fileURLToPath(new URL('../sipp/', import.meta.url));

export interface DeploySippOptions extends Omit<SippOptions, 'scenarioDir' | 'csv'> {
  /** The CSV fields of the one call; digest credentials as the whole `[authentication ...]` keyword. */
  fields?: string[];
}

/** One sipp call of the deployment scenarios (UDP, loopback, bounded). */
export function runSipp({ fields, ...options }: DeploySippOptions): Promise<SippResult> {
  return startSipp({ ...options, scenarioDir: SCENARIOS, csv: fields ? [fields.join(';')] : undefined }).done;
}
