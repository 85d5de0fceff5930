export { decodeG711, encodeG711, type G711Codec } from './g711.ts';
export {
  convertToPromptFormat,
  ensurePrompts,
  PROMPTS,
  type PromptName,
  promptPath,
  speak,
} from './prompts.ts';
export { buildRtp, digitOf, parseRtp, parseTelephoneEvent, type RtpPacket } from './rtp.ts';
export { buildAnswer, parseOffer, type RemoteMedia, SdpError } from './sdp.ts';
export {
  FRAME_SAMPLES,
  MediaSession,
  type MediaSessionOptions,
  type PlayResult,
  type RecordResult,
} from './session.ts';
export { parseWav, readWavFile, SAMPLE_RATE, wavHeader, writeWavFile } from './wav.ts';
