export {
  allocateUdpPort,
  CALL_SCENARIOS,
  callFields,
  expectSippOk,
  registerFields,
  runSipp,
  type SippOptions,
  type SippResult,
  type SippRun,
  stopAllSipp,
  waitForUdpListener,
} from './sipp.ts';
