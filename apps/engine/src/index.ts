export { AdminServer, type AppRequestHandler, type EngineIdentity } from './admin/admin-server.ts';
export { AppConnection } from './admin/app-connection.ts';
export { AppRegistry } from './admin/app-registry.ts';
export {
  checkStandaloneConfig,
  DEFAULT_LIMITS,
  type EngineConfig,
  type EngineLimits,
  engineConfigFrom,
  type HostPort,
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
export {
  parseInstruction,
  type RequestHandler,
  type RoutingInstruction,
} from './routing/request-handlers.ts';
