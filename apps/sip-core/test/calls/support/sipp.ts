import { fileURLToPath } from 'node:url';
import { allocatePort as allocate, type SippOptions, type SippRun, startSipp } from '@switchboard/testkit';

export {
  expectSippOk,
  expectSippsOk,
  type SippResult,
  type SippRun,
  stopAllSipp,
} from '@switchboard/testkit';

/** The call scenarios kept in the repository. */
export const CALL_SCENARIOS = fileURLToPath(new URL('../../sipp/calls/', import.meta.url));

export interface CallSippOptions extends Omit<SippOptions, 'scenarioDir' | 'csv' | 'localAddress'> {
  /** CSV fields of the one call (one semicolon-separated line). */
  fields?: string[];
  /** Local address (default 127.0.0.1); another loopback address stands for another host. */
  localIp?: string;
}

/** One phone or gateway of a call scenario, on a port the test chose. */
export function runSipp({ fields, localIp, ...options }: CallSippOptions): SippRun {
  return startSipp({
    ...options,
    scenarioDir: CALL_SCENARIOS,
    localAddress: localIp,
    csv: fields ? [fields.join(';')] : undefined,
  });
}

/** A UDP port in 18000-18999 free on 127.0.0.1 right now. */
export function allocatePort(): Promise<number> {
  return allocate({ min: 18000, max: 18999 });
}
