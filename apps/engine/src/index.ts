export { AdminServer, type AppRequestHandler, type EngineIdentity } from './admin/admin-server.ts';
export { AppConnection } from './admin/app-connection.ts';
export { AppRegistry } from './admin/app-registry.ts';
export { type AppEnd as InProcessAppEnd, InProcessLink } from './admin/in-process-link.ts';
export type { LocalHandler, LocalMethod, LocalRequest } from './bridge/local-handlers.ts';
export {
  CallCapture,
  type CallCaptureLimits,
  type CapturedMessage,
  DEFAULT_CAPTURE_LIMITS,
} from './capture/call-capture.ts';
export { type DecodedHep, decodeHep3, encodeHep3, HEP_CHUNK, type HepPacket } from './capture/hep.ts';
export { reloadSipCertificate, reloadSipCertificateOnSighup } from './certificate-reload.ts';
export {
  checkStandaloneConfig,
  DEFAULT_LIMITS,
  type EngineConfig,
  type EngineLimits,
  engineConfigFrom,
  type HepConfig,
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
