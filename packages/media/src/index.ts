export { parseRtpengineNg, type RtpengineAddress } from './config.ts';
export {
  type DtmfEvent,
  DtmfFeed,
  type DtmfFeedOptions,
  type DtmfHandler,
  dtmfFeedPorts,
  parseDtmfEvent,
} from './dtmf-feed.ts';
export { codeForErrorReason, MediaError, type MediaErrorCode } from './errors.ts';
export {
  detectRtpengine,
  type LocalRtpengine,
  type LocalRtpengineOptions,
  localRtpengineArgs,
  type ResolvedMedia,
  type ResolveMediaOptions,
  resolveMediaConfig,
  startLocalRtpengine,
} from './launcher.ts';
export type {
  AnswerRequest,
  MediaRelay,
  MediaSession,
  OfferRequest,
  PlayMediaOptions,
  SweeperOptions,
  SweepOptions,
  SweepResult,
} from './media-relay.ts';
export { NgClient, type NgClientOptions } from './ng-client.ts';
export type * from './ng-types.ts';
export { NullMedia } from './null-media.ts';
export { type InstanceHealth, type PoolOptions, RtpengineInstance, RtpenginePool } from './pool.ts';
export {
  type CodecPolicy,
  type LegProfile,
  type LegTransport,
  profiles,
  type SdpFlagContext,
  SRTP_SUITES,
  type SrtpSuite,
  sdpFlags,
} from './profiles.ts';
export type {
  CallCapture,
  CapturedRtp,
  PayloadTypes,
  StereoChannels,
  StereoRecording,
} from './recording.ts';
export {
  findCallCaptures,
  joinStereo,
  readPcapRtp,
  removeCapture,
  stereoWav,
} from './recording.ts';
export { RtpengineMedia, type RtpengineMediaOptions } from './rtpengine-media.ts';
export { sdpCodecs, sdpPayloadTypes } from './sdp-codecs.ts';
export {
  type CallStatistics,
  callStatistics,
  type LegStatistics,
  type PacketCounters,
  type SsrcStatistics,
  type StreamStatistics,
} from './stats.ts';
