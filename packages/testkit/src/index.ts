export { analyseTones, type PcmAudio, readWav, type ToneAnalysis, writeToneWav } from './audio.ts';
export { type MessagingSoftphone, startBaresipMessenger } from './baresip-messenger.ts';
export { selfSignedCertificate, type TestCertificate } from './certificates.ts';
export {
  DRACHTIO_SERVER_BIN_ENV,
  type DrachtioServer,
  type DrachtioServerOptions,
  drachtioServerBinary,
  startDrachtioServer,
} from './drachtio-server.ts';
export { until } from './polling.ts';
export { allocatePort, type PortRequest, tcpFree, testPortRange, udpFree } from './ports.ts';
export { optionsRequest } from './requests.ts';
export { S3_TEST_CREDENTIALS, type S3TestServer, startS3Server } from './s3.ts';
export {
  CALL_SCENARIOS,
  callFields,
  type ListenerQuery,
  registerFields,
  waitForListener,
  waitForUdpListener,
} from './scenarios.ts';
export {
  expectSippOk,
  expectSippsOk,
  runSipp,
  type SippOptions,
  type SippResult,
  type SippRun,
  sippPcap,
  startSipp,
  stopAllSipp,
} from './sipp.ts';
export * from './smtp.ts';
export {
  type CallEvent,
  type CallingSoftphone,
  type PhoneAccount,
  type PhoneAudio,
  type Softphone,
  startBaresip,
  startLinphonec,
  startLinphonecProvisioned,
} from './softphones.ts';
