export { AdminServer, type AppRequestHandler, type EngineIdentity } from './admin/admin-server.ts';
export { AppConnection } from './admin/app-connection.ts';
export { AppRegistry } from './admin/app-registry.ts';
export {
  DEFAULT_LIMITS,
  type EngineConfig,
  EngineConfigError,
  type EngineLimits,
  engineConfigFromEnv,
  type HostPort,
  parseSipListen,
  type SipListener,
  type SipTransport,
  type TlsFiles,
} from './config.ts';
export {
  type BoundListener,
  ENGINE_VERSION,
  type EngineDeps,
  type RunningEngine,
  startEngine,
} from './engine.ts';
