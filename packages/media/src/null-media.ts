import type { Logger } from 'pino';
import { MediaError } from './errors.ts';
import type {
  AnswerRequest,
  MediaRelay,
  MediaSession,
  OfferRequest,
  SweeperOptions,
  SweepResult,
} from './media-relay.ts';
import type { InstanceHealth } from './pool.ts';
import type { CallStatistics } from './stats.ts';

let warned = false;

/**
 * "No media anchoring": SDP passes through unchanged and media flows directly between the endpoints.
 * Calls still work end to end where the endpoints can reach each other. Warns once per process.
 */
export class NullMedia implements MediaRelay {
  readonly anchored = false;
  private readonly sessions = new Map<string, NullSession>();

  constructor(logger: Logger) {
    if (!warned) {
      warned = true;
      logger.warn(
        'no media anchoring: RTPENGINE_NG is unset and rtpengine is not installed; SDP passes through unchanged, ' +
          'so calls across NAT or between WebRTC and SIP phones will have no audio',
      );
    }
  }

  async offer(request: OfferRequest): Promise<{ sdp: string; session: MediaSession }> {
    const session =
      this.sessions.get(request.callId) ?? new NullSession(request.callId, request.fromTag, this);
    this.sessions.set(request.callId, session);
    return { sdp: request.sdp, session };
  }

  async answer(request: AnswerRequest): Promise<{ sdp: string }> {
    return { sdp: request.sdp };
  }

  async delete(callId: string): Promise<CallStatistics | null> {
    await this.sessions.get(callId)?.end();
    return null;
  }

  session(callId: string): MediaSession | undefined {
    return this.sessions.get(callId);
  }

  async sweep(): Promise<SweepResult> {
    return { deleted: [], unreachable: [], tooYoung: [] };
  }

  startSweeper(_options: SweeperOptions): () => void {
    return () => {};
  }

  health(): InstanceHealth[] {
    return [];
  }

  async close(): Promise<void> {}

  forget(callId: string): void {
    this.sessions.delete(callId);
  }
}

class NullSession implements MediaSession {
  readonly instance = undefined;
  private done = false;

  constructor(
    readonly callId: string,
    readonly fromTag: string,
    private readonly owner: NullMedia,
  ) {}

  get ended(): boolean {
    return this.done;
  }

  async answer(request: Omit<AnswerRequest, 'callId' | 'fromTag'>): Promise<{ sdp: string }> {
    return { sdp: request.sdp };
  }

  async query(): Promise<CallStatistics | null> {
    return null;
  }

  async playMedia(): Promise<{ durationMs: number | undefined }> {
    throw notAnchored('play media');
  }

  async stopMedia(): Promise<void> {
    throw notAnchored('stop media');
  }

  async playDtmf(): Promise<void> {
    throw notAnchored('play DTMF');
  }

  async blockMedia(): Promise<void> {
    throw notAnchored('block media');
  }

  async unblockMedia(): Promise<void> {
    throw notAnchored('unblock media');
  }

  async startRecording(): Promise<void> {
    throw notAnchored('start recording');
  }

  async stopRecording(): Promise<void> {
    throw notAnchored('stop recording');
  }

  async end(): Promise<CallStatistics | null> {
    this.done = true;
    this.owner.forget(this.callId);
    return null;
  }
}

function notAnchored(what: string): MediaError {
  return new MediaError('unsupported', `${what} needs media anchoring, and no rtpengine is configured`);
}
