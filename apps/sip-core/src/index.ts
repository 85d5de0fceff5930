// Public surface of @switchboard/sip-core.

export { ActiveCalls, type Admission, type CountedParty } from './calls/active-calls.ts';
export { type CallCounters, InMemoryCallCounters } from './calls/call-counters.ts';
export type { ActiveCallInfo, CallState } from './calls/call-types.ts';
export { type CallsConfig, DEFAULT_CALLS } from './calls/calls-config.ts';
export type { CallCredit, CreditDecision, CreditRequest } from './calls/credit.ts';
export { startDtmfFeedFor } from './calls/dtmf-feed-config.ts';
export { RedisCallCounters } from './calls/redis-call-counters.ts';
export { CdrWriter, DEFAULT_HEARTBEAT_MS, IN_PROGRESS, RECONCILED } from './cdr/cdr-writer.ts';
export {
  type AccessConfig,
  type AuthConfig,
  ConfigError,
  type DrachtioConnection,
  type NatConfig,
  type RegistrarConfig,
  resolveConfig,
  type SipCoreConfig,
  type SipCoreOptions,
} from './config.ts';
export { type Binding, type BindingTransport, isNatted } from './location/binding.ts';
export { LocationService, REGISTRATIONS_CHANNEL } from './location/location-service.ts';
export { PushRefresher } from './push/refresher.ts';
export type { SipCorePush, SipCorePushOptions } from './push/setup.ts';
export type { RecordingOptions } from './recording/call-recorder.ts';
export { recordingOptionsFrom } from './recording/recording-config.ts';
export { callsFromEnvironment } from './settings.ts';
export type { LocalEngine, LocalEngineRequest } from './sip/local-engine.ts';
export { type EngineLinkEnd, type RunningSipCore, type SipCoreDeps, startSipCore } from './start.ts';

/** The standalone sip-core program (main.ts): what the launcher forks as workers 2..SIP_CORE_WORKERS. */
export const SIP_CORE_MAIN = new URL('./main.ts', import.meta.url);
/** The same program compiled by scripts/bundle.mjs: what a bundled launcher forks instead. */
export const SIP_CORE_BUNDLE = new URL('../dist/main.mjs', import.meta.url);
export { effectiveWorkers, startWorkerPool, type WorkerPool } from './workers.ts';
