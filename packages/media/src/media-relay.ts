import type { InstanceHealth } from './pool.ts';
import type { LegProfile } from './profiles.ts';
import type { CallStatistics } from './stats.ts';

export interface OfferRequest {
  callId: string;
  /** Tag of the leg sending this offer (for a re-INVITE from the callee: the callee's tag). */
  fromTag: string;
  /** In-dialog offers: the tag of the leg receiving the offer. */
  toTag?: string;
  /** The SDP offer as received from the leg that sent it. */
  sdp: string;
  /** Profile of the leg that sent the offer (usually the caller). */
  legProfile: LegProfile;
  /** Profile of the leg that will receive the rewritten offer. */
  otherLegProfile: LegProfile;
  /** Source IP of the SIP message carrying the offer; used when `legProfile.behindNat`. */
  sourceAddress?: string;
  viaBranch?: string;
  /** Record the call from the start (needs a recording-capable rtpengine). */
  record?: boolean;
  /** Prepare the call for `playDtmf` (rtpengine's inject-DTMF: it decodes audio to insert the events). */
  injectDtmf?: boolean;
}

export interface AnswerRequest {
  callId: string;
  /** Tag of the leg that sent the offer being answered (default for sessions: the last offer's). */
  fromTag: string;
  /** To-tag of the leg that answered. */
  toTag: string;
  /** The SDP answer as received from the answering leg. */
  sdp: string;
  /** Source IP of the SIP message carrying the answer; used when the answering leg is behind NAT. */
  sourceAddress?: string;
  viaBranch?: string;
}

export interface PlayMediaOptions {
  /** Tag of the leg that hears the media; default: the offerer's leg. */
  tag?: string;
  /** File path on the rtpengine host. */
  file: string;
  repeatTimes?: number;
}

/** One call's media on the relay, from its first offer to its end. */
export interface MediaSession {
  readonly callId: string;
  readonly fromTag: string;
  /** NG address of the relay holding the call, or undefined without anchoring. */
  readonly instance: string | undefined;
  readonly ended: boolean;
  /** Rewrites the answer to the session's last offer. */
  answer(request: Omit<AnswerRequest, 'callId' | 'fromTag'> & { fromTag?: string }): Promise<{ sdp: string }>;
  query(): Promise<CallStatistics | null>;
  playMedia(options: PlayMediaOptions): Promise<{ durationMs: number | undefined }>;
  /** Stops what playMedia started for the leg `tag` (default: the offerer's leg). */
  stopMedia(tag?: string): Promise<void>;
  /** Injects one RFC 4733 DTMF event towards the other leg(s) of the leg named by `fromTag`. */
  playDtmf(options: { code: string; durationMs?: number; volume?: number; tag?: string }): Promise<void>;
  /** Drops media sent by the leg `tag`, or by every leg when `tag` is omitted. */
  blockMedia(tag?: string): Promise<void>;
  unblockMedia(tag?: string): Promise<void>;
  startRecording(): Promise<void>;
  stopRecording(): Promise<void>;
  /**
   * Deletes the call on the relay and returns its final statistics. Idempotent: later calls return the
   * same promise. Never throws: a delete that fails is logged and left to the orphan sweep.
   */
  end(): Promise<CallStatistics | null>;
}

export interface SweepResult {
  /** Call-ids deleted as orphans, with the instance that held them. */
  deleted: Array<{ callId: string; instance: string }>;
  /** Instances that could not be listed. */
  unreachable: string[];
  /** Calls not in the live set but younger than `minAgeMs`: left for the next sweep. */
  tooYoung: string[];
}

export interface SweepOptions {
  /** Only calls created at least this long ago are orphans (default 30 s); protects calls being set up. */
  minAgeMs?: number;
}

export interface SweeperOptions {
  intervalMs: number;
  /** The calls that are alive on every node sharing the relays; anything else on the relays is an orphan. */
  liveCallIds: () => Iterable<string> | Promise<Iterable<string>>;
  minAgeMs?: number;
}

/** The media relay as sip-core sees it; RtpengineMedia anchors media, NullMedia passes SDP through. */
export interface MediaRelay {
  /** False when media is not anchored (SDP passes unchanged). */
  readonly anchored: boolean;
  /** Rewrites an offer through the relay; a call's later offers (re-INVITE) go to the same instance. */
  offer(request: OfferRequest): Promise<{ sdp: string; session: MediaSession }>;
  answer(request: AnswerRequest): Promise<{ sdp: string }>;
  /** Ends the call's session (or deletes the call-id on every instance when no session is known). */
  delete(callId: string): Promise<CallStatistics | null>;
  session(callId: string): MediaSession | undefined;
  /** Deletes every call on the relays whose call-id is not in `liveCallIds` (and is old enough). */
  sweep(liveCallIds: Iterable<string>, options?: SweepOptions): Promise<SweepResult>;
  /** Runs `sweep` periodically; returns a function that stops it. */
  startSweeper(options: SweeperOptions): () => void;
  health(): InstanceHealth[];
  /** Stops timers and closes sockets; does not end live sessions. */
  close(): Promise<void>;
}
