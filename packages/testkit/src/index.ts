export { allocatePort, type PortRequest } from './ports.ts';
export {
  expectSippOk,
  runSipp,
  type SippOptions,
  type SippResult,
  type SippRun,
  startSipp,
  stopAllSipp,
} from './sipp.ts';
