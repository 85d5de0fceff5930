import type { LegProfile, MediaRelay, MediaSession } from '@switchboard/media';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { CallDisposition, CdrEnd, CdrStart, CdrWriter } from '../cdr/cdr-writer.ts';
import { cdrMediaStats } from './media-stats.ts';
import { withoutOriginUser } from './privacy.ts';

/** One place the B leg may go: a registered device or a gateway. */
export interface CallTarget {
  /** Request-URI of the B leg's INVITE. */
  uri: string;
  /** Where to send it (the device's NAT-facing address, or the gateway), as a SIP URI. */
  proxy: string;
  profile: LegProfile;
  /** Extra headers of this leg's INVITE (e.g. caller identity towards a gateway). */
  headers?: Record<string, string>;
  /** Digest credentials when the gateway challenges. */
  auth?: { username: string; password: string } | undefined;
  /** The peer gateway, for the CDR. */
  gatewayId?: string | undefined;
}

/**
 * One round of ringing: the targets of one destination (a subscriber's devices, the gateways of a
 * number), with what the CDR says of it if the call is answered or ends there.
 */
export interface CallStage {
  /** Tried in parallel (the first answer wins), or one after the other with `serial`. */
  targets: CallTarget[];
  serial?: boolean;
  /** From and To of the B leg. */
  from: string;
  to: string;
  calleeSubscriberId?: string | undefined;
  calleeCustomerId?: string | undefined;
  calleeRouted: string;
  /** Caller as routed on this stage's B leg (for the CDR); default: the plan's. */
  callerRouted?: string | undefined;
  /** Seconds this stage rings before its forks are cancelled (a 480 unless the route goes on). */
  ringTimeoutS: number;
  /** The call forward that led to this stage, for the CDR. */
  forwardedFrom?: string | undefined;
  forwardType?: CdrEnd['forwardType'];
}

/** How one stage ended when nobody answered. */
export interface StageFailure {
  kind: 'failed';
  /** What the caller would get if the route stops here (RFC 3261 §16.7 step 6 choice). */
  status: number;
  reason: string;
  /** The stage's ring timeout expired (its forks were cancelled). */
  timedOut: boolean;
  /** Every fork's final status. */
  statuses: number[];
}

/** A stage was answered (the call is bridged) or the call ended meanwhile: the route stops. */
export type RingOutcome = { kind: 'answered' } | { kind: 'ended' } | StageFailure;

export interface CallPlan extends CallStage {
  callerProfile: LegProfile;
  cdr: CdrStart;
  callerRouted: string;
  /**
   * The caller's identity is withheld from the callee (CLIR, a peer's Privacy header): every SDP sent
   * towards the callee loses its origin username, which the caller's phone may have filled with its
   * user name.
   */
  withheld?: boolean | undefined;
  /** Seconds an answered call may last; undefined: unlimited. */
  maxDurationS?: number | undefined;
  /**
   * Runs the stages of the call (call forwarding, see forwarding.ts) and resolves with the last
   * stage's outcome; default: the plan itself is the only stage.
   */
  route?: ((call: Call) => Promise<RingOutcome>) | undefined;
}

export interface CallDeps {
  srf: Srf;
  media: MediaRelay;
  cdr: CdrWriter;
  log: Logger;
}

export type CallState = 'trying' | 'early' | 'answered' | 'ended';

/** What the live-state API shows of a call. */
export interface ActiveCallInfo {
  callId: string;
  state: CallState;
  direction: CdrStart['direction'];
  caller: string;
  callee: string;
  callerSubscriberId?: string | undefined;
  calleeSubscriberId?: string | undefined;
  /** The callee is shown an anonymous caller (see `CdrStart.callerWithheld`). */
  callerWithheld: boolean;
  startedAt: Date;
  answeredAt?: Date | undefined;
}

interface SipErrorLike {
  status?: number;
  reason?: string;
}

/** Final response to the caller when every fork failed (RFC 3261 §16.7 step 6, simplified). */
export function bestFailure(failures: Array<{ status: number; reason: string }>): {
  status: number;
  reason: string;
} {
  const sixXx = failures.find((f) => f.status >= 600);
  if (sixXx) return sixXx;
  const busy = failures.find((f) => f.status === 486);
  if (busy) return busy;
  const meaningful = failures.find((f) => f.status !== 408 && f.status !== 487 && f.status < 500);
  if (meaningful) return meaningful;
  if (failures.every((f) => f.status === 408 || f.status === 487))
    return { status: 480, reason: 'Temporarily Unavailable' };
  return failures[0] ?? { status: 480, reason: 'Temporarily Unavailable' };
}

/** CDR disposition of a final response. */
export function dispositionOf(status: number): CallDisposition {
  if (status >= 200 && status < 300) return 'answered';
  if (status === 486 || status === 600) return 'busy';
  if (status === 480 || status === 408) return 'no_answer';
  if (status === 487) return 'cancelled';
  // 603 Decline, 604/606: the callee's explicit refusal (RFC 3261 §21.6), not a platform failure.
  if (status >= 600) return 'rejected';
  return 'failed';
}

/** drachtio-srf's Request is an EventEmitter; its typings name only 'response' and 'cancel'. */
interface UpdateEmitter {
  on(event: 'update', listener: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void): unknown;
  removeAllListeners(event: 'update'): unknown;
}

/** Dialog#request as drachtio-srf implements it: the callback hears every response to the request. */
interface InDialogRequester {
  request(
    options: { method: string; body?: string; headers?: Record<string, string> },
    callback: (error: unknown, response: Srf.SrfResponse) => void,
  ): unknown;
}

/** srf.request with a dialog id (drachtio-srf passes `stackDialogId` through; its typings omit it). */
interface EarlyRequester {
  request(
    uri: string,
    options: { method: string; stackDialogId: string; body?: string; headers?: Record<string, string> },
  ): Promise<{ on(event: 'response', listener: (response: Srf.SrfResponse) => void): void }>;
}

/**
 * Headers of the 2xx to a session refresh (RFC 4028 §9): the interval it asked for, the refresher it
 * named (else the one that sent it, `uac`), and `Require: timer` when that refresher relies on it.
 */
export function sessionRefreshHeaders(req: {
  get(name: string): string | undefined;
}): Record<string, string> {
  const value = req.get('Session-Expires');
  const interval = value ? /^\s*(\d+)/.exec(value)?.[1] : undefined;
  if (!interval) return {};
  const refresher = /;\s*refresher\s*=\s*(uac|uas)/i.exec(value ?? '')?.[1]?.toLowerCase() ?? 'uac';
  const supported = (req.get('Supported') ?? '').split(',').map((s) => s.trim().toLowerCase());
  return {
    'Session-Expires': `${interval};refresher=${refresher}`,
    ...(refresher === 'uac' && supported.includes('timer') ? { Require: 'timer' } : {}),
  };
}

/**
 * The last offer/answer exchange that completed (RFC 3264 §8), as the legs sent it: what the relay is
 * put back to when a later offer is refused.
 */
interface Negotiated {
  offerTag: string;
  answerTag: string;
  offer: string;
  answer: string;
  offererProfile: LegProfile;
  answererProfile: LegProfile;
  offerSource?: string | undefined;
  answerSource?: string | undefined;
}

/** The state drachtio-srf's Dialog#modify keeps (its typings omit it). */
interface ModifyState {
  local: { sdp: string };
  _reinvitesInProgress?: { count: number; admitOne: Array<() => void> };
}

/**
 * Undoes what drachtio-srf 5's Dialog#modify leaves behind when the re-INVITE gets a final non-2xx: it
 * never releases its one-re-INVITE-at-a-time slot, so every later modify() of the dialog would wait for
 * ever, and it keeps the refused offer as the dialog's local SDP. The session is the one before the
 * refused offer (RFC 3261 §14.1), so the slot is released and the SDP put back.
 */
function settleRefusedModify(dialog: Srf.Dialog, localSdp: string): void {
  const state = dialog as unknown as ModifyState;
  state.local.sdp = localSdp;
  const slot = state._reinvitesInProgress;
  if (!slot || slot.count <= 0) return;
  slot.count--;
  const next = slot.admitOne.shift();
  if (next) setImmediate(next);
}

/** drachtio-srf's Dialog#connected (false once a BYE was sent or received); its typings omit it. */
function isConnected(dialog: Srf.Dialog): boolean {
  return (dialog as unknown as { connected: boolean }).connected;
}

function tagOf(header: string | undefined): string | undefined {
  return header ? /;\s*tag=([^;>\s]+)/i.exec(header)?.[1] : undefined;
}

/**
 * A B2BUA call: the caller's INVITE (A leg, answered with createUAS) bridged to one of the forked B
 * legs (createUAC). Media is anchored through the relay with the A leg's Call-ID as the relay's
 * call-id; the A leg's From tag and the answering B leg's To tag name the two sides.
 */
export class Call {
  state: CallState = 'trying';
  readonly startedAt = new Date();
  answeredAt: Date | undefined;
  private readonly aTag: string;
  private bTag: string | undefined;
  private bLegId: string | undefined;
  private gatewayId: string | undefined;
  private session: MediaSession | undefined;
  /** The caller's offer as rewritten by the relay, and the profile of the leg it was made for. */
  private offerSdp: string | undefined;
  private offeredProfile: LegProfile | undefined;
  /** The stage ringing now or last (its callee is the CDR's). */
  private stage: CallStage;
  private nextKey = 0;
  private cdrId: Promise<string | undefined>;
  private readonly pending = new Map<number, Srf.SrfRequest>();
  private uas: Srf.Dialog | undefined;
  private uac: Srf.Dialog | undefined;
  private ringTimer: NodeJS.Timeout | undefined;
  private durationTimer: NodeJS.Timeout | undefined;
  private sentProvisional = 0;
  /**
   * The fork whose 183 with SDP was relayed to the caller: its early dialog (engine dialog id) and To
   * tag, for UPDATEs before the answer (RFC 3311 §5.1).
   */
  private early: { dialogId: string; toTag: string } | undefined;
  /** An offer (re-INVITE or UPDATE) is being relayed: another one meanwhile gets 491 (RFC 3311 §5.2). */
  private offerPending = false;
  private negotiated: Negotiated | undefined;
  private finished: Promise<void> | undefined;
  private readonly log: Logger;
  private onEnded: () => void = () => {};
  private resolveEnded: () => void = () => {};
  /** Resolves once the call has ended and its CDR is complete. */
  readonly ended = new Promise<void>((resolve) => {
    this.resolveEnded = resolve;
  });

  constructor(
    private readonly req: Srf.SrfRequest,
    private readonly res: Srf.SrfResponse,
    private readonly plan: CallPlan,
    private readonly deps: CallDeps,
  ) {
    this.aTag = tagOf(req.get('From')) ?? '';
    this.stage = plan;
    this.log = deps.log.child({ callId: plan.cdr.callId });
    this.cdrId = deps.cdr.start(plan.cdr);
  }

  /** Re-reads the state after an await (a CANCEL or timeout may have ended the call meanwhile). */
  private hasEnded(): boolean {
    return this.state === 'ended';
  }

  private isOver(): boolean {
    return this.state === 'ended' || this.state === 'answered';
  }

  get callId(): string {
    return this.plan.cdr.callId;
  }

  info(): ActiveCallInfo {
    return {
      callId: this.callId,
      state: this.state,
      direction: this.plan.cdr.direction,
      caller: this.plan.cdr.callerDialled,
      callee: this.plan.cdr.calleeDialled,
      callerSubscriberId: this.plan.cdr.callerSubscriberId,
      calleeSubscriberId: this.stage.calleeSubscriberId,
      callerWithheld: this.plan.cdr.callerWithheld === true,
      startedAt: this.startedAt,
      answeredAt: this.answeredAt,
    };
  }

  /** Sets up the call; resolves when it has ended (any way) and its CDR is written. */
  run(onEnded: () => void): Promise<void> {
    this.onEnded = onEnded;
    this.req.on('cancel', () => this.callerCancelled());
    // drachtio-srf hands an UPDATE in the caller's early dialog to the INVITE (no Dialog exists yet).
    (this.req as unknown as UpdateEmitter).on('update', (req, res) => void this.update('caller', req, res));
    this.setup().catch((error: unknown) => {
      this.log.error({ err: error }, 'call set-up failed');
      void this.fail(500, 'Server Internal Error');
    });
    return this.ended;
  }

  private async setup(): Promise<void> {
    const outcome = this.plan.route ? await this.plan.route(this) : await this.ring(this.plan);
    if (outcome.kind === 'failed' && !this.hasEnded()) await this.fail(outcome.status, outcome.reason);
  }

  /** The caller's offer through the relay, towards a leg of `profile` (again when that changes). */
  private async offerTowards(profile: LegProfile, again = false): Promise<void> {
    const sdp = this.req.body;
    if (!sdp || (this.offeredProfile === profile && !again)) return;
    const offer = await this.deps.media.offer({
      callId: this.callId,
      fromTag: this.aTag,
      sdp,
      legProfile: this.plan.callerProfile,
      otherLegProfile: profile,
      sourceAddress: this.req.source_address,
    });
    this.session = offer.session;
    this.offerSdp = offer.sdp;
    this.offeredProfile = profile;
  }

  /**
   * Names the callee the CDR reports when a route ends without ringing it (a forward destination
   * that was refused or closed a loop), so the row still says which forward happened.
   */
  retarget(callee: Pick<CallStage, 'calleeRouted' | 'forwardedFrom' | 'forwardType'>): void {
    if (this.isOver()) return;
    this.stage = {
      ...this.stage,
      targets: [],
      calleeSubscriberId: undefined,
      calleeCustomerId: undefined,
      ...callee,
    };
    this.gatewayId = undefined;
  }

  /**
   * Rings one stage: its targets in parallel (first 2xx wins) or serially (gateways in LCR order),
   * until one answers, all fail, the stage's ring timeout cancels them, or the call ends. Used by a
   * route to try one destination after another on the same A leg and media session.
   */
  async ring(stage: CallStage): Promise<RingOutcome> {
    if (this.hasEnded()) return { kind: 'ended' };
    this.stage = stage;
    this.gatewayId = undefined;
    const first = stage.targets[0];
    if (!first)
      return {
        kind: 'failed',
        status: 480,
        reason: 'Temporarily Unavailable',
        timedOut: false,
        statuses: [],
      };
    await this.offerTowards(first.profile);
    if (this.hasEnded()) return { kind: 'ended' };
    const { deps } = this;
    const offerSdp = this.towardsCallee(this.offerSdp ?? this.req.body);

    const round = { over: false, timedOut: false, won: false };
    const keys: number[] = [];
    // On timeout the stage ends at once: a fork slow to answer our CANCEL does not hold up the route.
    let timeUp: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      timeUp = resolve;
    });
    this.ringTimer = setTimeout(() => {
      if (this.isOver() || round.won) return;
      this.log.info({ callee: stage.calleeRouted }, 'no answer within the ring timeout');
      round.timedOut = true;
      round.over = true;
      this.cancel(keys);
      timeUp();
    }, stage.ringTimeoutS * 1000);
    const failures: Array<{ status: number; reason: string }> = [];
    const attempt = async (target: CallTarget): Promise<void> => {
      const key = this.nextKey++;
      keys.push(key);
      try {
        const uac = await deps.srf.createUAC(
          target.uri,
          {
            proxy: target.proxy,
            localSdp: offerSdp,
            headers: { From: stage.from, To: stage.to, ...target.headers },
            ...(target.auth ? { auth: target.auth } : {}),
          },
          {
            // drachtio-srf calls it as (error, request), whatever its typings say.
            cbRequest: ((_error: unknown, sent: Srf.SrfRequest) => {
              this.pending.set(key, sent);
              this.bLegId = sent.get('Call-ID');
              this.gatewayId = target.gatewayId;
              if (this.state === 'ended' || round.over) sent.cancel(() => {});
              // An UPDATE in this fork's early dialog: createUAC answers it with the first offer by
              // itself, which would bypass the relay; once its listener is attached (right after this
              // callback returns) ours replaces it.
              queueMicrotask(() => {
                const emitter = sent as unknown as UpdateEmitter;
                emitter.removeAllListeners('update');
                emitter.on('update', (req, res) => void this.update('callee', req, res));
              });
            }) as unknown as (sent: Srf.SrfRequest) => void,
            cbProvisional: (provisional) => void this.provisional(provisional),
          },
        );
        this.pending.delete(key);
        if (round.won || round.over || this.isOver()) {
          // A second answer (RFC 3261 §13.2.2.4), or one that crossed our CANCEL: acknowledge and
          // hang up that leg.
          uac.destroy();
          return;
        }
        round.won = true;
        this.gatewayId = target.gatewayId;
        this.cancel(keys);
        await this.answered(uac);
      } catch (error) {
        this.pending.delete(key);
        const sipError = error as SipErrorLike;
        failures.push({
          status: typeof sipError.status === 'number' ? sipError.status : 500,
          reason: sipError.reason ?? 'Server Internal Error',
        });
        if (typeof sipError.status !== 'number') this.log.warn({ err: error }, 'B leg failed');
      }
    };
    const serial = async (): Promise<void> => {
      // Gateways in LCR order: the next one only after a 5xx, 408 or no answer in time (RFC 3261 §16.7
      // leaves the choice to the element; a 4xx/6xx is the callee's answer and ends the hunt).
      for (const target of stage.targets) {
        if (this.hasEnded() || round.over) break;
        await attempt(target);
        if (round.won) break;
        const last = failures.at(-1);
        if (last && last.status !== 408 && last.status < 500) break;
        if (last)
          this.log.info(
            { gateway: target.gatewayId, status: last.status },
            'gateway failed, trying the next',
          );
      }
    };
    await Promise.race([
      stage.serial ? serial() : Promise.all(stage.targets.map((target) => attempt(target))),
      stopped,
    ]);
    clearTimeout(this.ringTimer);
    let failure: { status: number; reason: string };
    if (stage.serial) {
      const last = failures.at(-1) ?? { status: 480, reason: 'Temporarily Unavailable' };
      failure = last.status === 408 ? { status: 480, reason: last.reason } : last;
    } else failure = bestFailure(failures);
    round.over = true;
    if (round.won) return this.hasEnded() ? { kind: 'ended' } : { kind: 'answered' };
    if (this.hasEnded()) return { kind: 'ended' };
    if (round.timedOut) failure = { status: 480, reason: 'Temporarily Unavailable' };
    return {
      kind: 'failed',
      ...failure,
      timedOut: round.timedOut,
      statuses: failures.map((f) => f.status),
    };
  }

  /** 180/183 from a fork: relayed to the caller once each; early media's SDP through the relay. */
  private async provisional(provisional: Srf.SrfResponse): Promise<void> {
    if (this.state === 'ended' || this.state === 'answered') return;
    const status = provisional.status;
    if (status === 100) return;
    const body = provisional.body;
    if (body && this.session && this.sentProvisional !== 183) {
      const toTag = tagOf(provisional.get('To'));
      if (!toTag) return;
      const answer = await this.session.answer({
        toTag,
        sdp: body,
        sourceAddress: provisional.source_address,
      });
      if (this.isOver()) return;
      this.negotiatedCaller(toTag, body, provisional.source_address);
      const bTag = tagOf(provisional.get('From'));
      if (bTag) this.early = { dialogId: `${provisional.get('Call-ID')};from-tag=${bTag}`, toTag };
      this.state = 'early';
      this.sentProvisional = 183;
      this.res.send(183, { body: answer.sdp, headers: { 'Content-Type': 'application/sdp' } });
      return;
    }
    if (this.sentProvisional === 0 && (status === 180 || status === 183)) {
      this.sentProvisional = 180;
      this.state = 'early';
      this.res.send(180);
    }
  }

  private cancelPending(): void {
    for (const sent of this.pending.values()) {
      try {
        sent.cancel(() => {});
      } catch (err) {
        // drachtio-srf throws when it has no engine connection to send the CANCEL on. The call ends
        // here anyway; the callee's INVITE transaction times out on its own (RFC 3261 §17.1.1.2).
        this.log.warn({ err }, 'could not cancel a pending fork');
      }
    }
    this.pending.clear();
  }

  /** Cancels the forks of one stage that are still pending. */
  private cancel(keys: number[]): void {
    for (const key of keys) {
      this.pending.get(key)?.cancel(() => {});
      this.pending.delete(key);
    }
  }

  /** The first 2xx (RFC 3261 §16.7 step 5): cancel the other forks, answer the caller, bridge. */
  private async answered(uac: Srf.Dialog): Promise<void> {
    clearTimeout(this.ringTimer);
    this.cancelPending();
    this.uac = uac;
    this.bTag = uac.sip.remoteTag;
    this.bLegId = uac.sip.callId;
    let answerSdp = uac.remote.sdp;
    // The relay took another fork's early answer (a 183 with SDP from a device or a forward destination
    // that did not answer): rtpengine narrowed the caller's side to what that fork answered (its
    // codecs), and would rewrite this answer to match it. The caller's offer, made again, puts the
    // session back to the offer this fork was sent (same ports: same call and tags) before its answer.
    const answeringTag = uac.sip.remoteTag;
    if (this.session && answerSdp && this.early && this.early.toTag !== answeringTag) {
      await this.offerTowards(this.offeredProfile ?? this.plan.callerProfile, true);
      this.early = undefined;
    }
    if (answerSdp) this.negotiatedCaller(answeringTag, answerSdp, uac.req?.source_address);
    if (this.session && answerSdp) {
      answerSdp = (
        await this.session.answer({
          toTag: uac.sip.remoteTag,
          sdp: answerSdp,
          sourceAddress: uac.req?.source_address,
        })
      ).sdp;
    }
    if (this.isOver()) {
      uac.destroy();
      return;
    }
    let uas: Srf.Dialog;
    try {
      uas = await this.deps.srf.createUAS(this.req, this.res, {
        localSdp: answerSdp,
        headers: { 'Content-Type': 'application/sdp' },
      });
    } catch (error) {
      // The caller went away between the callee's answer and ours (e.g. CANCEL crossed the 200).
      this.log.info({ err: error }, 'caller gone before the answer');
      uac.destroy();
      await this.finish(487, 'Request Terminated');
      return;
    }
    this.uas = uas;
    this.state = 'answered';
    this.answeredAt = new Date();
    void this.cdrId.then((id) => this.deps.cdr.answered(id, this.answeredAt ?? new Date()));
    if (this.plan.maxDurationS)
      this.durationTimer = setTimeout(
        () => this.hangUpBoth('maximum call duration'),
        this.plan.maxDurationS * 1000,
      );

    uas.on('destroy', () => {
      uac.destroy();
      void this.finish(200, 'Caller hung up');
    });
    uac.on('destroy', () => {
      uas.destroy();
      void this.finish(200, 'Callee hung up');
    });
    uas.on('modify', (req: Srf.SrfRequest, res: Srf.SrfResponse) => void this.reinvite('caller', req, res));
    uac.on('modify', (req: Srf.SrfRequest, res: Srf.SrfResponse) => void this.reinvite('callee', req, res));
    uas.on('update', (req: Srf.SrfRequest, res: Srf.SrfResponse) => void this.update('caller', req, res));
    uac.on('update', (req: Srf.SrfRequest, res: Srf.SrfResponse) => void this.update('callee', req, res));
    // drachtio-srf emits 'destroy' once. A BYE that came while the answer was being set up (the callee
    // hanging up at once, or the caller's BYE read in the same engine frame batch as our 200's
    // confirmation) found no listener; its dialog still says it is gone.
    if (!isConnected(uas)) {
      uac.destroy();
      void this.finish(200, 'Caller hung up');
    } else if (!isConnected(uac)) {
      uas.destroy();
      void this.finish(200, 'Callee hung up');
    }
  }

  /** The caller's INVITE offer answered by the callee (early or final answer). */
  private negotiatedCaller(answerTag: string, answer: string, answerSource: string | undefined): void {
    const offer = this.req.body;
    if (!offer) return;
    this.negotiated = {
      offerTag: this.aTag,
      answerTag,
      offer,
      answer,
      offererProfile: this.plan.callerProfile,
      answererProfile: this.offeredProfile ?? this.stage.targets[0]?.profile ?? this.plan.callerProfile,
      offerSource: this.req.source_address,
      answerSource,
    };
  }

  /**
   * A refused re-offer (re-INVITE or UPDATE) leaves the session as it was (RFC 3261 §14.1, RFC 3311
   * §5.2), but the relay already took the refused offer and may have moved the ports it faces the
   * other leg with (rtpengine gives a changed offer new ones), while that leg still sends to the ones
   * it was last told. Playing the last completed exchange to the relay again puts its ports, codecs
   * and directions back, so media keeps flowing as negotiated.
   */
  private async restoreMedia(): Promise<void> {
    const last = this.negotiated;
    if (!last || !this.session || this.hasEnded()) return;
    try {
      await this.deps.media.offer({
        callId: this.callId,
        fromTag: last.offerTag,
        toTag: last.answerTag,
        sdp: last.offer,
        legProfile: last.offererProfile,
        otherLegProfile: last.answererProfile,
        sourceAddress: last.offerSource,
      });
      await this.session.answer({
        fromTag: last.offerTag,
        toTag: last.answerTag,
        sdp: last.answer,
        sourceAddress: last.answerSource,
      });
      this.log.info('media restored to the last negotiated offer and answer');
    } catch (error) {
      this.log.warn({ err: error }, 'could not restore the media session after a refused offer');
    }
  }

  /**
   * UPDATE (RFC 3311) from either side, in the early dialog (after a 183 with SDP) or the confirmed
   * one. With SDP it is a new offer: through the relay to the other leg as an UPDATE, whose answer
   * comes back through the relay; a failure is answered with the other leg's code and the session stays
   * as it was (§5.2). Without SDP it only refreshes the session (RFC 4028 §9) or the target, which this
   * leg's dialog already took (the engine re-armed its session timer): answered here, since each leg's
   * timer is between the B2BUA and that leg.
   */
  private async update(from: 'caller' | 'callee', req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<void> {
    const refresh = sessionRefreshHeaders(req);
    if (!req.body) return res.send(200, '', { headers: refresh });
    if (this.state === 'ended') return res.send(481, 'Call/Transaction Does Not Exist', {});
    const calleeTag = this.bTag ?? this.early?.toTag;
    const ownTag = from === 'caller' ? this.aTag : tagOf(req.get('From'));
    const otherTag = from === 'caller' ? calleeTag : this.aTag;
    // Before the answer only the fork whose early answer the caller got has an offer/answer to change
    // (§5.1); anything else is asked to retry later (§5.2).
    if (!calleeTag || !ownTag || !otherTag || (from === 'callee' && ownTag !== calleeTag))
      return res.send(500, 'Server Internal Error', { headers: { 'Retry-After': '1' } });
    if (this.offerPending) return res.send(491, 'Request Pending', {});
    this.offerPending = true;
    const callerProfile = this.plan.callerProfile;
    const calleeProfile = this.offeredProfile ?? this.stage.targets[0]?.profile ?? callerProfile;
    let relayed = false;
    try {
      let offer: string = req.body;
      const ownProfile = from === 'caller' ? callerProfile : calleeProfile;
      const otherProfile = from === 'caller' ? calleeProfile : callerProfile;
      if (this.session) {
        relayed = true;
        offer = await this.relayOffer(req, ownTag, otherTag, offer, ownProfile, otherProfile);
      }
      const answer =
        from === 'caller'
          ? await this.sendUpdate('callee', this.towardsCallee(offer))
          : await this.sendUpdate('caller', offer);
      if (answer.status < 200 || answer.status >= 300) {
        this.log.info({ from, status: answer.status }, 'UPDATE refused by the other side');
        await this.restoreMedia();
        return res.send(answer.status, answer.reason ?? '', {});
      }
      let sdp = answer.body;
      if (sdp)
        this.negotiated = {
          offerTag: ownTag,
          answerTag: otherTag,
          offer: req.body,
          answer: sdp,
          offererProfile: ownProfile,
          answererProfile: otherProfile,
          offerSource: req.source_address,
          answerSource: answer.source_address,
        };
      if (sdp && this.session)
        sdp = (await this.session.answer({ fromTag: ownTag, toTag: otherTag, sdp })).sdp;
      if (sdp && from === 'callee') sdp = this.towardsCallee(sdp);
      res.send(200, {
        body: sdp,
        headers: { ...(sdp ? { 'Content-Type': 'application/sdp' } : {}), ...refresh },
      });
    } catch (error) {
      const status = (error as SipErrorLike).status;
      this.log.info({ err: error, from }, 'UPDATE failed');
      if (relayed) await this.restoreMedia();
      res.send(typeof status === 'number' && status >= 400 ? status : 500);
    } finally {
      this.offerPending = false;
    }
  }

  /**
   * Passes a new offer (re-INVITE or UPDATE) from one leg through the relay, with the sending leg's
   * profile as its own and the other leg's as the far side; returns the offer to send on.
   */
  private async relayOffer(
    req: Srf.SrfRequest,
    ownTag: string,
    otherTag: string,
    offer: string,
    ownProfile: LegProfile,
    otherProfile: LegProfile,
  ): Promise<string> {
    const relayed = await this.deps.media.offer({
      callId: this.callId,
      fromTag: ownTag,
      toTag: otherTag,
      sdp: offer,
      legProfile: ownProfile,
      otherLegProfile: otherProfile,
      sourceAddress: req.source_address,
    });
    return relayed.sdp;
  }

  /** Sends an UPDATE with an offer to one side, in its confirmed or early dialog; resolves with the final response. */
  private sendUpdate(to: 'caller' | 'callee', sdp: string): Promise<Srf.SrfResponse> {
    const options = { method: 'UPDATE', body: sdp, headers: { 'Content-Type': 'application/sdp' } };
    return new Promise<Srf.SrfResponse>((resolve, reject) => {
      const onResponse = (response: Srf.SrfResponse): void => {
        if (response.status >= 200) resolve(response);
      };
      const dialog = to === 'caller' ? this.uas : this.uac;
      if (dialog) {
        (dialog as unknown as InDialogRequester).request(options, (error, response) =>
          error ? reject(error) : onResponse(response),
        );
        return;
      }
      // Early: drachtio-srf has no Dialog before the answer, but the engine keeps the early dialog
      // and sends a request naming its id inside it.
      const dialogId = to === 'caller' ? `${this.callId};from-tag=${this.aTag}` : this.early?.dialogId;
      if (!dialogId) return reject(new Error('no dialog to send the UPDATE in'));
      (this.deps.srf as unknown as EarlyRequester)
        .request('sip:placeholder', { ...options, stackDialogId: dialogId })
        .then((sent) => sent.on('response', onResponse), reject);
    });
  }

  /**
   * Re-INVITE (hold, resume, codec change; RFC 3261 §14): the new offer goes through the relay to the
   * other leg, its answer back through the relay. A failure answers the re-INVITE with the other leg's
   * code and leaves the session as it was (§14.1).
   */
  private async reinvite(
    from: 'caller' | 'callee',
    req: Srf.SrfRequest,
    res: Srf.SrfResponse,
  ): Promise<void> {
    const other = from === 'caller' ? this.uac : this.uas;
    if (!other) return res.send(500);
    const ownTag = from === 'caller' ? this.aTag : (this.bTag ?? '');
    const otherTag = from === 'caller' ? (this.bTag ?? '') : this.aTag;
    const callerProfile = this.plan.callerProfile;
    const calleeProfile = this.offeredProfile ?? this.stage.targets[0]?.profile ?? callerProfile;
    // Glare with an UPDATE being relayed (RFC 3261 §14.2).
    if (this.offerPending) return res.send(491, 'Request Pending', {});
    this.offerPending = true;
    let relayed = false;
    const ownProfile = from === 'caller' ? callerProfile : calleeProfile;
    const otherProfile = from === 'caller' ? calleeProfile : callerProfile;
    try {
      let offer = req.body;
      if (offer && this.session) {
        relayed = true;
        offer = await this.relayOffer(req, ownTag, otherTag, offer, ownProfile, otherProfile);
      }
      const localSdp = (other as unknown as ModifyState).local.sdp;
      let answer: string | undefined;
      try {
        answer = await other.modify(from === 'caller' && offer ? this.towardsCallee(offer) : offer);
      } catch (error) {
        if (typeof (error as SipErrorLike).status === 'number') settleRefusedModify(other, localSdp);
        throw error;
      }
      if (answer && req.body)
        this.negotiated = {
          offerTag: ownTag,
          answerTag: otherTag,
          offer: req.body,
          answer,
          offererProfile: ownProfile,
          answererProfile: otherProfile,
          offerSource: req.source_address,
        };
      if (answer && this.session)
        answer = (await this.session.answer({ fromTag: ownTag, toTag: otherTag, sdp: answer })).sdp;
      if (answer && from === 'callee') answer = this.towardsCallee(answer);
      res.send(200, { body: answer, headers: { 'Content-Type': 'application/sdp' } });
    } catch (error) {
      const status = (error as SipErrorLike).status;
      this.log.info({ err: error, from }, 're-INVITE failed');
      if (relayed) await this.restoreMedia();
      res.send(typeof status === 'number' && status >= 400 ? status : 500);
    } finally {
      this.offerPending = false;
    }
  }

  /** SDP of the caller's side as the callee may see it (see `CallPlan.withheld`). */
  private towardsCallee(sdp: string): string {
    return this.plan.withheld ? withoutOriginUser(sdp) : sdp;
  }

  private callerCancelled(): void {
    if (this.state === 'answered' || this.state === 'ended') return;
    // The engine already answered the CANCEL and sent 487 to the caller (RFC 3261 §9.2).
    this.cancelPending();
    void this.finish(487, 'Request Terminated');
  }

  private hangUpBoth(why: string): void {
    this.log.info({ why }, 'ending the call');
    this.uas?.destroy();
    this.uac?.destroy();
    void this.finish(200, why);
  }

  /** Rejects the caller (if not answered yet), cancels the forks and ends the call. */
  private async fail(status: number, reason: string): Promise<void> {
    if (this.state === 'ended') return;
    this.cancelPending();
    if (!this.res.finalResponseSent) this.res.send(status, reason, {});
    await this.finish(status, reason);
  }

  /** Ends the call exactly once: timers, media, CDR, registry. */
  private finish(status: number, reason: string): Promise<void> {
    if (this.finished) return this.finished;
    const wasAnswered = this.state === 'answered';
    this.state = 'ended';
    clearTimeout(this.ringTimer);
    clearTimeout(this.durationTimer);
    const endedAt = new Date();
    this.finished = (async () => {
      const stats = this.session
        ? await this.session.end()
        : await this.deps.media.delete(this.callId).catch(() => null);
      const id = await this.cdrId;
      await this.deps.cdr.finish(id, this.plan.cdr, {
        bLegId: this.bLegId,
        callerRouted: this.stage.callerRouted ?? this.plan.callerRouted,
        calleeRouted: this.stage.calleeRouted,
        calleeSubscriberId: this.stage.calleeSubscriberId,
        calleeCustomerId: this.stage.calleeCustomerId,
        forwardedFrom: this.stage.forwardedFrom,
        forwardType: this.stage.forwardType,
        peerGatewayId: this.gatewayId ?? this.plan.cdr.peerGatewayId,
        answeredAt: this.answeredAt,
        endedAt,
        disposition: wasAnswered ? 'answered' : dispositionOf(status),
        sipCode: wasAnswered ? 200 : status,
        sipReason: reason,
        mediaStats: cdrMediaStats(stats, this.aTag, this.bTag),
      });
      this.onEnded();
      this.resolveEnded();
    })();
    return this.finished;
  }
}
