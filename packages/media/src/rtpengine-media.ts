import type { Logger } from 'pino';
import type { RtpengineAddress } from './config.ts';
import { MediaError } from './errors.ts';
import type {
  AnswerRequest,
  MediaRelay,
  MediaSession,
  OfferRequest,
  PlayMediaOptions,
  SweeperOptions,
  SweepOptions,
  SweepResult,
} from './media-relay.ts';
import type { NgCallInfo, NgSdpFlags } from './ng-types.ts';
import { type InstanceHealth, type RtpengineInstance, RtpenginePool } from './pool.ts';
import { type LegProfile, sdpFlags } from './profiles.ts';
import { type CallStatistics, callStatistics, hasStatistics } from './stats.ts';

export interface RtpengineMediaOptions {
  instances: RtpengineAddress[];
  logger: Logger;
  /** Timeout of one NG request (default 1000 ms). */
  requestTimeoutMs?: number;
  /** Upper bound on an offer including fail-over to other instances (default 3000 ms). */
  setupDeadlineMs?: number;
  /** Ping period of the health check (default 5000 ms; 0 disables it). */
  healthIntervalMs?: number;
  /** Random source for weighted selection. */
  random?: () => number;
}

const DEFAULT_SWEEP_MIN_AGE_MS = 30_000;

/** Anchors media on a pool of rtpengine instances. */
export class RtpengineMedia implements MediaRelay {
  readonly anchored = true;
  readonly pool: RtpenginePool;
  private readonly logger: Logger;
  private readonly setupDeadlineMs: number;
  private readonly sessions = new Map<string, RtpengineSession>();
  /**
   * First offers in flight, by call-id: a second offer for the same call waits for the first so both land
   * on one instance, and the sweep does not take these calls for orphans.
   */
  private readonly pendingOffers = new Map<string, Promise<unknown>>();
  private readonly sweepers = new Set<() => void>();

  constructor(options: RtpengineMediaOptions) {
    this.logger = options.logger;
    this.setupDeadlineMs = options.setupDeadlineMs ?? 3000;
    this.pool = new RtpenginePool({
      instances: options.instances,
      logger: options.logger,
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      ...(options.healthIntervalMs === undefined ? {} : { healthIntervalMs: options.healthIntervalMs }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
    this.pool.start();
  }

  async offer(request: OfferRequest): Promise<{ sdp: string; session: MediaSession }> {
    requireText(request.callId, 'callId');
    requireText(request.fromTag, 'fromTag');
    checkSdp(request.sdp);
    const params = {
      'call-id': request.callId,
      'from-tag': request.fromTag,
      ...(request.toTag === undefined ? {} : { 'to-tag': request.toTag }),
      sdp: request.sdp,
      ...(request.viaBranch === undefined ? {} : { 'via-branch': request.viaBranch }),
      ...(request.record ? { 'record call': 'yes' as const } : {}),
      ...withExtraFlags(
        sdpFlags(request.legProfile, request.otherLegProfile, {
          stage: 'offer',
          ...(request.sourceAddress === undefined ? {} : { sourceAddress: request.sourceAddress }),
        }),
        request.injectDtmf ? ['inject-DTMF'] : [],
      ),
    };

    const inFlight = this.pendingOffers.get(request.callId);
    if (inFlight !== undefined) await inFlight.catch(() => undefined);

    const existing = this.sessions.get(request.callId);
    const pinned = this.pool.instanceFor(request.callId);
    if (pinned !== undefined) {
      // A re-offer (re-INVITE, UPDATE, forked INVITE): the call's ports are on this instance.
      const { sdp } = await withDeadline(pinned.client.offer(params), this.setupDeadlineMs, pinned.address);
      const session = existing ?? this.newSession(request, pinned);
      session.offered(request);
      return { sdp, session };
    }

    const setUp = this.offerWithFailover(request.callId, params).then(({ sdp, instance }) => ({
      sdp,
      session: this.newSession(request, instance) as MediaSession,
    }));
    this.pendingOffers.set(request.callId, setUp);
    try {
      return await setUp;
    } finally {
      this.pendingOffers.delete(request.callId);
    }
  }

  async answer(request: AnswerRequest): Promise<{ sdp: string }> {
    const session = this.sessions.get(request.callId);
    if (session === undefined) {
      throw new MediaError(
        'unknown-call',
        `no media session for call ${request.callId}: answer without offer`,
      );
    }
    return session.answer(request);
  }

  async delete(callId: string): Promise<CallStatistics | null> {
    const session = this.sessions.get(callId);
    if (session !== undefined) return session.end();
    // Not ours (e.g. set up before a restart): remove it wherever it is.
    let stats: CallStatistics | null = null;
    await Promise.all(
      this.pool.instances.map(async (instance) => {
        const result = await deleteCall(instance, callId, this.logger);
        stats ??= result;
      }),
    );
    return stats;
  }

  session(callId: string): MediaSession | undefined {
    return this.sessions.get(callId);
  }

  async sweep(liveCallIds: Iterable<string>, options: SweepOptions = {}): Promise<SweepResult> {
    const live = new Set(liveCallIds);
    const minAgeMs = options.minAgeMs ?? DEFAULT_SWEEP_MIN_AGE_MS;
    const result: SweepResult = { deleted: [], unreachable: [], tooYoung: [] };
    for (const instance of this.pool.instances) {
      let calls: string[];
      try {
        calls = await instance.client.list({ limit: 1_000_000 });
      } catch (err) {
        result.unreachable.push(instance.address);
        this.logger.warn({ err, rtpengine: instance.address }, 'orphan sweep: cannot list calls');
        continue;
      }
      for (const callId of calls) {
        if (live.has(callId) || this.pendingOffers.has(callId)) continue;
        if (minAgeMs > 0 && !(await this.oldEnough(instance, callId, minAgeMs))) {
          result.tooYoung.push(callId);
          continue;
        }
        const session = this.sessions.get(callId);
        if (session !== undefined && session.instance === instance.address) {
          await session.end();
        } else {
          await deleteCall(instance, callId, this.logger);
        }
        result.deleted.push({ callId, instance: instance.address });
      }
    }
    if (result.deleted.length > 0) {
      this.logger.warn({ deleted: result.deleted }, 'orphan sweep deleted calls no longer alive');
    }
    return result;
  }

  /**
   * A call not yet in the caller's live set may be one whose set-up is racing the sweep; only calls older
   * than `minAgeMs` (by rtpengine's own creation time) are taken for orphans.
   */
  private async oldEnough(instance: RtpengineInstance, callId: string, minAgeMs: number): Promise<boolean> {
    try {
      const info = await instance.client.query({ 'call-id': callId });
      if (typeof info.created !== 'number') return true;
      return Date.now() - info.created * 1000 >= minAgeMs;
    } catch (err) {
      if (!(err instanceof MediaError && err.code === 'unknown-call')) {
        this.logger.warn({ err, callId, rtpengine: instance.address }, 'orphan sweep: cannot query call');
      }
      return false;
    }
  }

  startSweeper(options: SweeperOptions): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      Promise.resolve()
        .then(options.liveCallIds)
        .then((live) =>
          this.sweep(live, options.minAgeMs === undefined ? {} : { minAgeMs: options.minAgeMs }),
        )
        .catch((err: unknown) => this.logger.error({ err }, 'orphan sweep failed'))
        .finally(() => {
          running = false;
        });
    }, options.intervalMs);
    timer.unref();
    const stop = (): void => {
      clearInterval(timer);
      this.sweepers.delete(stop);
    };
    this.sweepers.add(stop);
    return stop;
  }

  health(): InstanceHealth[] {
    return this.pool.health();
  }

  async close(): Promise<void> {
    for (const stop of [...this.sweepers]) stop();
    this.pool.close();
  }

  /** Called by a session once its call is gone from the relay. */
  forget(session: RtpengineSession): void {
    if (this.sessions.get(session.callId) === session) this.sessions.delete(session.callId);
    this.pool.unpin(session.callId);
  }

  private newSession(request: OfferRequest, instance: RtpengineInstance): RtpengineSession {
    const session = new RtpengineSession(this, instance, request, this.logger, this.setupDeadlineMs);
    this.sessions.set(request.callId, session);
    this.pool.pin(request.callId, instance);
    return session;
  }

  /**
   * Tries the offer on each candidate instance until one answers, within the set-up deadline. An instance
   * that times out is marked unhealthy; because it may have created the call anyway, the call-id is
   * deleted there in the background.
   */
  private async offerWithFailover(
    callId: string,
    params: Parameters<RtpengineInstance['client']['offer']>[0],
  ): Promise<{ sdp: string; instance: RtpengineInstance }> {
    const deadline = Date.now() + this.setupDeadlineMs;
    const tried: string[] = [];
    let lastError: MediaError | undefined;
    for (const instance of this.pool.candidates()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      tried.push(instance.address);
      try {
        const { sdp } = await withDeadline(instance.client.offer(params), remaining, instance.address);
        this.pool.markHealthy(instance);
        return { sdp, instance };
      } catch (err) {
        if (!(err instanceof MediaError) || !err.instanceFault) throw err;
        lastError = err;
        this.logger.warn(
          { err, callId, rtpengine: instance.address },
          'offer failed on rtpengine, trying next',
        );
        if (err.code === 'timeout' || err.code === 'transport') {
          this.pool.markUnhealthy(instance, err.message);
          void deleteCall(instance, callId, this.logger);
        }
      }
    }
    throw new MediaError(
      'unavailable',
      `no rtpengine took the offer for call ${callId} within ${this.setupDeadlineMs} ms (tried ${tried.join(', ') || 'none'})`,
      lastError === undefined ? {} : { cause: lastError },
    );
  }
}

class RtpengineSession implements MediaSession {
  readonly callId: string;
  readonly fromTag: string;
  readonly instance: string;
  private readonly relay: RtpengineMedia;
  private readonly rtpengine: RtpengineInstance;
  private readonly logger: Logger;
  private readonly deadlineMs: number;
  private readonly injectDtmf: boolean;
  private offererTag: string;
  private offererProfile: LegProfile;
  private answererProfile: LegProfile;
  private ending: Promise<CallStatistics | null> | undefined;

  constructor(
    relay: RtpengineMedia,
    rtpengine: RtpengineInstance,
    request: OfferRequest,
    logger: Logger,
    deadlineMs: number,
  ) {
    this.relay = relay;
    this.rtpengine = rtpengine;
    this.callId = request.callId;
    this.fromTag = request.fromTag;
    this.offererTag = request.fromTag;
    this.instance = rtpengine.address;
    this.offererProfile = request.legProfile;
    this.answererProfile = request.otherLegProfile;
    this.injectDtmf = request.injectDtmf === true;
    this.logger = logger.child({ callId: request.callId, rtpengine: rtpengine.address });
    this.deadlineMs = deadlineMs;
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** Records a re-offer: its direction (which leg offered) and profiles apply to the next answer. */
  offered(request: OfferRequest): void {
    this.offererTag = request.fromTag;
    this.offererProfile = request.legProfile;
    this.answererProfile = request.otherLegProfile;
  }

  async answer(
    request: Omit<AnswerRequest, 'callId' | 'fromTag'> & { fromTag?: string },
  ): Promise<{ sdp: string }> {
    this.assertLive();
    requireText(request.toTag, 'toTag');
    checkSdp(request.sdp);
    const params = {
      'call-id': this.callId,
      // rtpengine names the offer's sender in from-tag for the answer too (also for a callee's re-INVITE).
      'from-tag': request.fromTag ?? this.offererTag,
      'to-tag': request.toTag,
      sdp: request.sdp,
      ...(request.viaBranch === undefined ? {} : { 'via-branch': request.viaBranch }),
      // The answer travels from the answering leg back to the offerer.
      ...withExtraFlags(
        sdpFlags(this.answererProfile, this.offererProfile, {
          stage: 'answer',
          ...(request.sourceAddress === undefined ? {} : { sourceAddress: request.sourceAddress }),
        }),
        this.injectDtmf ? ['inject-DTMF'] : [],
      ),
    };
    return this.call(this.rtpengine.client.answer(params));
  }

  async query(): Promise<CallStatistics | null> {
    try {
      const info = await this.call(this.rtpengine.client.query({ 'call-id': this.callId }));
      return callStatistics(this.callId, this.instance, info);
    } catch (err) {
      if (err instanceof MediaError && err.code === 'unknown-call') return null;
      throw err;
    }
  }

  async playMedia(options: PlayMediaOptions): Promise<{ durationMs: number | undefined }> {
    this.assertLive();
    return this.call(
      this.rtpengine.client.playMedia({
        'call-id': this.callId,
        'from-tag': options.tag ?? this.fromTag,
        file: options.file,
        ...(options.repeatTimes === undefined ? {} : { 'repeat-times': options.repeatTimes }),
      }),
    );
  }

  async stopMedia(tag?: string): Promise<void> {
    this.assertLive();
    return this.call(
      this.rtpengine.client.stopMedia({ 'call-id': this.callId, 'from-tag': tag ?? this.fromTag }),
    );
  }

  async playDtmf(options: {
    code: string;
    durationMs?: number;
    volume?: number;
    tag?: string;
  }): Promise<void> {
    this.assertLive();
    if (!/^[0-9*#A-Da-d]$/.test(options.code)) {
      throw new MediaError('invalid-argument', `DTMF code must be one of 0-9 * # A-D, got "${options.code}"`);
    }
    return this.call(
      this.rtpengine.client.playDtmf({
        'call-id': this.callId,
        'from-tag': options.tag ?? this.fromTag,
        code: options.code.toUpperCase(),
        ...(options.durationMs === undefined ? {} : { duration: options.durationMs }),
        ...(options.volume === undefined ? {} : { volume: options.volume }),
      }),
    );
  }

  async blockMedia(tag?: string): Promise<void> {
    this.assertLive();
    return this.call(this.rtpengine.client.blockMedia(this.legRef(tag)));
  }

  async unblockMedia(tag?: string): Promise<void> {
    this.assertLive();
    return this.call(this.rtpengine.client.unblockMedia(this.legRef(tag)));
  }

  async startRecording(): Promise<void> {
    this.assertLive();
    return this.call(this.rtpengine.client.startRecording({ 'call-id': this.callId }));
  }

  async stopRecording(): Promise<void> {
    this.assertLive();
    return this.call(this.rtpengine.client.stopRecording({ 'call-id': this.callId }));
  }

  end(): Promise<CallStatistics | null> {
    this.ending ??= this.finish();
    return this.ending;
  }

  private async finish(): Promise<CallStatistics | null> {
    // Named by its offerer's tag, a delete answers with the call's statistics before it removes the
    // whole call (rtpengine's call_delete_branch; by Call-ID alone it answers without them), so the
    // final figures cost no query round trip of their own.
    const stats = await deleteCall(this.rtpengine, this.callId, this.logger, this.fromTag);
    this.relay.forget(this);
    return stats;
  }

  private legRef(tag: string | undefined): { 'call-id': string; 'from-tag'?: string; all?: boolean } {
    return tag === undefined
      ? { 'call-id': this.callId, all: true }
      : { 'call-id': this.callId, 'from-tag': tag };
  }

  private assertLive(): void {
    if (this.ending !== undefined) {
      throw new MediaError('unknown-call', `media session for call ${this.callId} has ended`, {
        instance: this.instance,
      });
    }
  }

  private call<T>(promise: Promise<T>): Promise<T> {
    return withDeadline(promise, this.deadlineMs, this.instance);
  }
}

/**
 * Deletes a call on one instance, retrying once on timeout. Returns the statistics in the reply when
 * rtpengine sends them (it does when `fromTag` names one of the call's tags). A tag rtpengine does not
 * know leaves the call in place, so the delete is repeated by Call-ID alone. Never throws: what cannot
 * be deleted now is left to the orphan sweep.
 */
async function deleteCall(
  instance: RtpengineInstance,
  callId: string,
  logger: Logger,
  fromTag?: string,
): Promise<CallStatistics | null> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const ref = fromTag === undefined ? { 'call-id': callId } : { 'call-id': callId, 'from-tag': fromTag };
      const info: NgCallInfo = await instance.client.delete(ref);
      return hasStatistics(info) ? callStatistics(callId, instance.address, info) : null;
    } catch (err) {
      if (err instanceof MediaError && err.code === 'unknown-call') {
        return fromTag === undefined ? null : deleteCall(instance, callId, logger);
      }
      if (!(err instanceof MediaError && err.code === 'timeout') || attempt === 2) {
        logger.warn(
          { err, callId, rtpengine: instance.address },
          'media delete failed; left to the orphan sweep',
        );
        return null;
      }
    }
  }
  return null;
}

/** Rejects with a timeout MediaError when `promise` has not settled within `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number, instance: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new MediaError('timeout', `rtpengine ${instance} did not answer within ${ms} ms`, { instance }),
        ),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function withExtraFlags(flags: NgSdpFlags, extra: string[]): NgSdpFlags {
  if (extra.length === 0) return flags;
  return { ...flags, flags: [...(flags.flags ?? []), ...extra] };
}

function requireText(value: string, name: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new MediaError('invalid-argument', `${name} must be a non-empty string`);
  }
}

/** Rejects what is obviously not an SDP body before it reaches rtpengine (RFC 8866 5: starts with v=0). */
function checkSdp(sdp: string): void {
  if (typeof sdp !== 'string' || !/^v=0\r?\n/.test(sdp)) {
    throw new MediaError('bad-sdp', 'SDP body must start with "v=0" (RFC 8866 section 5)');
  }
  if (!/^m=/m.test(sdp)) {
    throw new MediaError('bad-sdp', 'SDP body has no m= line: nothing to relay');
  }
}
