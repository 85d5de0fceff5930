export { allocatePort, type PortRequest } from './ports.ts';
export { CALL_SCENARIOS, callFields, registerFields, waitForUdpListener } from './scenarios.ts';
export {
  expectSippOk,
  runSipp,
  type SippOptions,
  type SippResult,
  type SippRun,
  startSipp,
  stopAllSipp,
} from './sipp.ts';
