import { randomBytes } from 'node:crypto';
import type { DtmfFeed, LegProfile, MediaRelay } from '@switchboard/media';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { CdrWriter } from '../cdr/cdr-writer.ts';
import { type ActiveRecording, type CallRecorder, sentPayloadTypes } from '../recording/call-recorder.ts';
import { listenForInfoKeys } from '../recording/info-keys.ts';
import type { EngineTraits } from '../sip/engine-traits.ts';
import {
  type ActiveCallInfo,
  type CallPlan,
  type CallStage,
  type CallState,
  type CreditGrant,
  dispositionOf,
  type EarlyMediaApp,
  type InDialogHeaders,
  type LocalMediaApp,
  type LocalMediaSession,
  type ReceivedHeaders,
  type RingOutcome,
} from './call-types.ts';
import type { ClusterRoutes } from './cluster-route.ts';
import { takeInfoKey } from './dtmf-info.ts';
import { PendingForks } from './forks.ts';
import { cdrMediaStats } from './media-stats.ts';
import { OfferAnswer } from './offer-answer.ts';
import { type RingHost, RingRound } from './ring-round.ts';
import {
  endDialog,
  headerEntriesOf,
  isConnected,
  localSdpOf,
  tagOf,
  type UpdateEmitter,
} from './srf-dialog.ts';

/**
 * A prepaid call is cut this long before its paid seconds end: the rater charges whole seconds
 * rounded up, so a call ended a moment late would cost one more second than the balance paid for.
 */
const CUT_AHEAD_MS = 500;
/** More credit is asked for this long before the paid seconds end (a database round trip). */
const EXTEND_AHEAD_MS = 2000;

/**
 * The Contact of the caller's early dialog (RFC 3261 §12.1.1: a 1xx with a To tag creates one, and an
 * UPDATE in it, RFC 3311, goes to this target), for an engine that adds none of its own to an unreliable
 * 1xx (drachtio-server v0.9.4), which puts its address in place of `localhost`. Ours writes its own, with
 * the listener's scheme and transport, so none is given to it.
 */
function earlyContact(engine: EngineTraits | undefined): Record<string, string> {
  return engine && !engine.contactOnProvisional ? { Contact: '<sip:b2bua@localhost>' } : {};
}

export interface CallDeps {
  srf: Srf;
  media: MediaRelay;
  cdr: CdrWriter;
  log: Logger;
  /** The connected engine's traits; default: ours. */
  engine?: EngineTraits;
  /** Told each time the call's state changes (early, answered, ended). */
  onState?: (call: Call) => void;
  /** Devices registered on other nodes are reached through them; unset: one node. */
  cluster?: ClusterRoutes | undefined;
  /** Call recording (docs/pbx.md); unset: no call is recorded. */
  recorder?: Pick<CallRecorder, 'answered'> | undefined;
  /** The relay's DTMF feed (RFC 4733 keys to INFO); unset: none. */
  dtmfFeed?: DtmfFeed | undefined;
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
  /** Peer-side admission counts of the answered leg, released when the call ends. */
  private readonly releases: Array<() => void> = [];
  /** The caller's offer towards the legs, their answers, and every later offer of either side. */
  private readonly media: OfferAnswer;
  /** The stage ringing now or last (its callee is the CDR's). */
  private stage: CallStage;
  private cdrId: Promise<string | undefined>;
  private readonly forks: PendingForks;
  private uas: Srf.Dialog | undefined;
  private uac: Srf.Dialog | undefined;
  /** The answering target's in-dialog headers, when it is a peer (docs/sbc.md, "Header rules"). */
  private calleeDialog: InDialogHeaders | undefined;
  /** The answering peer's inbound header rules on its own in-dialog requests. */
  private calleeFromPeer: ReceivedHeaders | undefined;
  /** The round ringing now or last; its timer must not outlive the call. */
  private round: RingRound | undefined;
  private durationTimer: NodeJS.Timeout | undefined;
  private creditTimer: NodeJS.Timeout | undefined;
  private sentProvisional = 0;
  /** The media application playing early media now (`earlyMedia`); closed when the call ends. */
  private earlySession: LocalMediaSession | undefined;
  /** Longest wait for a device woken by push (RFC 8599), for the CDR. */
  private pushWaitMs: number | undefined;
  private finished: Promise<void> | undefined;
  /** Set at the answer when a party's customer records the call. */
  private recording: Promise<ActiveRecording | undefined> | undefined;
  private readonly log: Logger;
  private onEnded: (() => void) | undefined;
  private resolveEnded: (() => void) | undefined;
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
    this.forks = new PendingForks(this.log);
    const call = this;
    this.media = new OfferAnswer({
      callId: plan.cdr.callId,
      aTag: this.aTag,
      callerInvite: req,
      callerProfile: plan.callerProfile,
      withheld: plan.withheld === true,
      media: deps.media,
      srf: deps.srf,
      log: this.log,
      // Methods on an alias rather than named arrows (see ringHost).
      state() {
        return call.state;
      },
      calleeProfile() {
        return call.stage.targets[0]?.profile;
      },
      headersTo(side, method, received) {
        return call.headersTo(side, method, received);
      },
      dtmfFeed: deps.dtmfFeed,
      callerDtmfInfo: plan.callerDtmfInfo === true,
    });
    this.cdrId = deps.cdr.start(plan.cdr);
  }

  /**
   * Headers of an in-dialog request or response sent to one side: a peer's header rules and topology
   * hiding (towards-peer.ts); none towards our own devices. `received`: the other side's request, as
   * that side's inbound header rules leave it when it is a peer.
   */
  private headersTo(
    side: 'caller' | 'callee',
    method: string,
    received?: Srf.SrfRequest,
  ): Record<string, string> {
    const dialog = side === 'caller' ? this.plan.callerDialog : this.calleeDialog;
    if (!dialog) return {};
    const sender = side === 'caller' ? this.calleeFromPeer : this.plan.callerFromPeer;
    const entries = headerEntriesOf(received);
    return dialog(method, sender && received ? sender(method, entries) : entries);
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
      ...this.media.describe(),
    };
  }

  /**
   * Ends the call from outside (an operator's or customer's hang-up through the API): an answered call
   * gets a BYE on both legs (RFC 3261 §15.1.1); one still ringing is refused to the caller and its forks
   * are cancelled.
   */
  hangUp(why: string): void {
    if (this.state === 'ended') return;
    if (this.state === 'answered') this.hangUpBoth(why);
    else void this.fail(480, why);
  }

  /** Sets up the call; resolves when it has ended (any way) and its CDR is written. */
  run(onEnded: () => void): Promise<void> {
    this.onEnded = onEnded;
    this.req.on('cancel', () => this.callerCancelled());
    // drachtio-srf hands an UPDATE in the caller's early dialog to the INVITE (no Dialog exists yet).
    (this.req as unknown as UpdateEmitter).on(
      'update',
      (req, res) => void this.media.update('caller', req, res),
    );
    this.setup().catch((error: unknown) => {
      this.log.error({ err: error }, 'call set-up failed');
      void this.fail(500, 'Server Internal Error');
    });
    return this.ended;
  }

  private async setup(): Promise<void> {
    const outcome = this.plan.route ? await this.plan.route(this) : await this.ring(this.plan);
    if (outcome.kind === 'failed' && !this.hasEnded())
      await this.fail(outcome.status, outcome.reason, outcome.retryAfter, outcome.challenge);
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
      payer: undefined,
      ...callee,
    };
    this.gatewayId = undefined;
  }

  /**
   * Rings one stage (see RingRound) on the same A leg and media session, so a route can try one
   * destination after another.
   */
  async ring(stage: CallStage): Promise<RingOutcome> {
    if (this.hasEnded()) return { kind: 'ended' };
    this.stage = stage;
    this.gatewayId = undefined;
    if (stage.targets.length === 0)
      return {
        kind: 'failed',
        status: 480,
        reason: 'Temporarily Unavailable',
        timedOut: false,
        statuses: [],
      };
    await this.media.offersTowards(stage.targets.map((t) => t.profile));
    if (this.hasEnded()) return { kind: 'ended' };
    this.round = new RingRound(this.ringHost(), stage, (profile) => this.media.calleeOffer(profile));
    return this.round.run();
  }

  /**
   * Answers the caller with a media application of ours (`LocalMediaApp`) instead of a B leg: the
   * caller's offer through the relay towards a plain RTP leg (the relay keeps NAT, SRTP and the
   * caller's codecs on its side), the application's answer back through it, then the application
   * runs until it ends the call or the caller hangs up. The CDR names `stage`'s callee.
   */
  async answerLocally<S extends LocalMediaSession>(
    stage: Omit<CallStage, 'targets' | 'ringTimeoutS'>,
    app: LocalMediaApp<S>,
    profile: LegProfile,
  ): Promise<RingOutcome> {
    if (this.hasEnded()) return { kind: 'ended' };
    this.stage = { ...stage, targets: [], ringTimeoutS: 0 };
    this.gatewayId = undefined;
    await this.media.offersTowards([profile]);
    if (this.hasEnded()) return { kind: 'ended' };
    let session: S;
    try {
      session = await app.open(this.media.calleeOffer(profile));
    } catch (error) {
      this.log.info({ err: error }, 'local media refused the offer');
      return { kind: 'failed', status: 488, reason: 'Not Acceptable Here', timedOut: false, statuses: [488] };
    }
    const toTag = randomBytes(6).toString('hex');
    this.bTag = toTag;
    let uas: Srf.Dialog;
    try {
      const answerSdp = await this.media.localAnswer(toTag, session.answer);
      if (this.isOver()) throw new Error('call ended while answering');
      uas = await this.deps.srf.createUAS(this.req, this.res, {
        localSdp: answerSdp,
        headers: { 'Content-Type': 'application/sdp' },
      });
    } catch (error) {
      session.close();
      if (this.hasEnded()) return { kind: 'ended' };
      this.log.info({ err: error }, 'caller gone before the local answer');
      await this.finish(487, 'Request Terminated');
      return { kind: 'ended' };
    }
    this.uas = uas;
    this.state = 'answered';
    this.answeredAt = new Date();
    this.deps.onState?.(this);
    void this.cdrId.then((id) => this.deps.cdr.answered(id, this.answeredAt ?? new Date()));
    const ended = (why: string): void => {
      session.close();
      void this.finish(200, why);
    };
    uas.on('destroy', () => ended('Caller hung up'));
    // Phones that signal DTMF as SIP INFO (RFC 6086) reach the menu like RFC 4733 events.
    uas.on('info', (req: Srf.SrfRequest, res: Srf.SrfResponse) =>
      takeInfoKey(req, res, (key) => session.pressDigit(key)),
    );
    if (!isConnected(uas)) ended('Caller hung up');
    else
      void app
        .run(session)
        .catch((error: unknown) => this.log.error({ err: error }, 'local media application failed'))
        .finally(() => {
          if (this.hasEnded()) return;
          endDialog(uas, this.headersTo('caller', 'BYE'));
          ended('Application hung up');
        });
    return { kind: 'answered' };
  }

  /**
   * Plays a media application of ours to the caller before anything answers (early media, RFC 3960
   * §3.1, the gateway model): the caller's offer through the relay towards a plain RTP leg, the
   * application's answer back in a 183 Session Progress (RFC 3261 §13.2.1: an unreliable provisional
   * response may carry the answer), then the application runs until it returns what it decided. The
   * call stays unanswered, so the route can ring the destination the application chose on the same
   * caller leg: whoever answers then is bridged as any fork that answers after another fork's early
   * media (`OfferAnswer.finalAnswer` gives the relay the caller's offer again). The CDR names `stage`'s
   * callee until the route rings another.
   */
  async earlyMedia<S extends LocalMediaSession, R>(
    stage: Omit<CallStage, 'targets' | 'ringTimeoutS'>,
    app: EarlyMediaApp<S, R>,
    profile: LegProfile,
  ): Promise<{ kind: 'played'; result: R } | RingOutcome> {
    if (this.isOver()) return { kind: 'ended' };
    this.stage = { ...stage, targets: [], ringTimeoutS: 0 };
    this.gatewayId = undefined;
    await this.media.offersTowards([profile]);
    if (this.isOver()) return { kind: 'ended' };
    let session: S;
    try {
      session = await app.open(this.media.calleeOffer(profile));
    } catch (error) {
      this.log.info({ err: error }, 'local media refused the offer');
      return { kind: 'failed', status: 488, reason: 'Not Acceptable Here', timedOut: false, statuses: [488] };
    }
    this.earlySession = session;
    try {
      const sdp = await this.media.localEarlyAnswer(randomBytes(6).toString('hex'), session.answer);
      if (this.isOver()) return { kind: 'ended' };
      this.state = 'early';
      this.deps.onState?.(this);
      this.sentProvisional = 183;
      this.res.send(183, {
        body: sdp,
        headers: { 'Content-Type': 'application/sdp', ...earlyContact(this.deps.engine) },
      });
      const result = await app.run(session);
      if (this.isOver()) return { kind: 'ended' };
      // The destination's own 183 with SDP (its ringback) may reach the caller again.
      this.sentProvisional = 180;
      return { kind: 'played', result };
    } finally {
      session.close();
      this.earlySession = undefined;
    }
  }

  /**
   * An INFO from the caller in one of its early dialogs (our 180/183's To tag; drachtio-srf has no
   * Dialog for it, so it arrives as a new request): a key goes to the menu playing early media, as its
   * RFC 4733 events do. With nothing playing (the chosen destination rings) a key is answered 200 and
   * dropped rather than 481, which would tell the phone its dialog is gone (RFC 3261 §12.2.1.2). False
   * when the call is not unanswered any more or the INFO is not the caller's in a dialog (no To tag).
   */
  earlyInfo(req: Srf.SrfRequest, res: Srf.SrfResponse): boolean {
    if (this.state !== 'trying' && this.state !== 'early') return false;
    if (tagOf(req.get('From')) !== this.aTag || !tagOf(req.get('To'))) return false;
    const session = this.earlySession;
    takeInfoKey(req, res, (key) => {
      if (session) session.pressDigit(key);
      else this.log.debug({ key }, 'INFO key with no menu playing: dropped');
    });
    return true;
  }

  /** What a round of ringing sees of this call; the state it reports stays here. */
  private ringHost(): RingHost {
    // Methods on an alias rather than named arrows: under esbuild's keepNames (tsx, our bundle) each
    // named arrow created costs a run-time name definition (docs/performance.md, "What a name made at
    // run time costs").
    const call = this;
    return {
      srf: this.deps.srf,
      log: this.log,
      forks: this.forks,
      cluster: this.deps.cluster,
      hasEnded() {
        return call.hasEnded();
      },
      isOver() {
        return call.isOver();
      },
      legSent(bLegId, gatewayId) {
        call.bLegId = bLegId;
        call.gatewayId = gatewayId;
      },
      calleeUpdate(req, res) {
        void call.media.update('callee', req, res);
      },
      provisional(provisional, profile) {
        void call.provisional(provisional, profile);
      },
      answered(uac, target, profile) {
        call.gatewayId = target.gatewayId;
        call.calleeDialog = target.inDialog;
        call.calleeFromPeer = target.fromPeer;
        // One of several subscribers rung together answered: the CDR names it.
        if (target.subscriberId) call.stage = { ...call.stage, calleeSubscriberId: target.subscriberId };
        return call.answered(uac, profile, target.maxDurationS);
      },
      keep(release) {
        call.releases.push(release);
      },
      pushWaited(ms) {
        call.pushWaitMs = Math.max(call.pushWaitMs ?? 0, ms);
      },
    };
  }

  /** 180/183 from a fork: relayed to the caller once each; early media's SDP through the relay. */
  private async provisional(provisional: Srf.SrfResponse, profile: LegProfile): Promise<void> {
    if (this.state === 'ended' || this.state === 'answered') return;
    const status = provisional.status;
    if (status === 100) return;
    if (provisional.body && this.media.session && this.sentProvisional !== 183) {
      const answer = await this.media.earlyAnswer(provisional, profile);
      if (answer === undefined) return;
      this.state = 'early';
      this.deps.onState?.(this);
      this.sentProvisional = 183;
      this.res.send(183, {
        body: answer,
        headers: { 'Content-Type': 'application/sdp', ...earlyContact(this.deps.engine) },
      });
      return;
    }
    if (this.sentProvisional === 0 && (status === 180 || status === 183)) {
      this.sentProvisional = 180;
      this.state = 'early';
      this.deps.onState?.(this);
      this.res.send(180, { headers: earlyContact(this.deps.engine) });
    }
  }

  /** The first 2xx (RFC 3261 §16.7 step 5): cancel the other forks, answer the caller, bridge. */
  private async answered(uac: Srf.Dialog, profile: LegProfile, peerMaxDurationS?: number): Promise<void> {
    this.forks.cancelAll();
    this.uac = uac;
    this.bTag = uac.sip.remoteTag;
    this.bLegId = uac.sip.callId;
    const answerSdp = await this.media.finalAnswer(uac, profile);
    if (this.isOver()) {
      endDialog(uac);
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
      endDialog(uac);
      await this.finish(487, 'Request Terminated');
      return;
    }
    this.uas = uas;
    this.media.bridged(uas, uac);
    this.state = 'answered';
    this.answeredAt = new Date();
    this.deps.onState?.(this);
    void this.cdrId.then((id) => this.deps.cdr.answered(id, this.answeredAt ?? new Date()));
    this.recording = this.deps.recorder?.answered({
      session: this.media.session,
      callId: this.callId,
      aTag: this.aTag,
      bTag: this.bTag,
      subscriberIds: [this.plan.cdr.callerSubscriberId, this.stage.calleeSubscriberId],
      payloadTypes: {
        left: sentPayloadTypes(answerSdp, this.req.body),
        right: sentPayloadTypes(localSdpOf(uac), uac.remote.sdp),
      },
    });
    // An on-demand party may send its recording code as SIP INFO rather than RFC 4733 events.
    void this.recording?.then((recording) => {
      if (recording?.key)
        listenForInfoKeys(
          [
            { dialog: uas, tag: this.aTag },
            { dialog: uac, tag: this.bTag },
          ],
          recording.key,
          this.log,
        );
    });
    // The shorter of the plan's cap and the answering peer's (call admission control, docs/sbc.md).
    const caps = [this.plan.maxDurationS, peerMaxDurationS].filter((d): d is number => !!d && d > 0);
    if (caps.length > 0)
      this.durationTimer = setTimeout(
        () => this.hangUpBoth('maximum call duration'),
        Math.min(...caps) * 1000,
      );
    // A forwarded leg to the phone network is paid by the forwarding subscriber's credit.
    const credit = this.stage.payer ? this.stage.payer.credit : this.plan.credit;
    if (credit) this.watchCredit(credit, this.answeredAt.getTime());

    // A BYE of one side ends the other with a BYE of ours, with what the peer's rules make of it.
    uas.on('destroy', (bye?: Srf.SrfRequest) => {
      endDialog(uac, this.headersTo('callee', 'BYE', bye));
      void this.finish(200, 'Caller hung up');
    });
    uac.on('destroy', (bye?: Srf.SrfRequest) => {
      endDialog(uas, this.headersTo('caller', 'BYE', bye));
      void this.finish(200, 'Callee hung up');
    });
    // drachtio-srf emits 'destroy' once. A BYE that came while the answer was being set up (the callee
    // hanging up at once, or the caller's BYE read in the same engine frame batch as our 200's
    // confirmation) found no listener; its dialog still says it is gone.
    if (!isConnected(uas)) {
      endDialog(uac, this.headersTo('callee', 'BYE'));
      void this.finish(200, 'Caller hung up');
    } else if (!isConnected(uac)) {
      endDialog(uas, this.headersTo('caller', 'BYE'));
      void this.finish(200, 'Callee hung up');
    }
  }

  /**
   * A prepaid call lasts as long as its reserved credit: shortly before the paid seconds end it asks
   * for more; when none is left it ends with a BYE to both sides once they are over.
   */
  private watchCredit(credit: CreditGrant, answeredAt: number): void {
    let paidS = credit.seconds;
    const at = (aheadMs: number, run: () => void): void => {
      clearTimeout(this.creditTimer);
      this.creditTimer = setTimeout(run, Math.max(0, answeredAt + paidS * 1000 - aheadMs - Date.now()));
    };
    const extend = async (): Promise<void> => {
      let added = 0;
      try {
        added = await credit.extend();
      } catch (error) {
        this.log.error({ err: error }, 'reserving more credit failed');
      }
      if (this.hasEnded()) return;
      if (added > 0) {
        paidS += added;
        at(EXTEND_AHEAD_MS, () => void extend());
      } else at(CUT_AHEAD_MS, () => this.hangUpBoth(credit.cutReason()));
    };
    at(EXTEND_AHEAD_MS, () => void extend());
  }

  private callerCancelled(): void {
    if (this.state === 'answered' || this.state === 'ended') return;
    // The engine already answered the CANCEL and sent 487 to the caller (RFC 3261 §9.2).
    this.forks.cancelAll();
    void this.finish(487, 'Request Terminated');
  }

  private hangUpBoth(why: string): void {
    this.log.info({ why }, 'ending the call');
    endDialog(this.uas, this.headersTo('caller', 'BYE'));
    endDialog(this.uac, this.headersTo('callee', 'BYE'));
    void this.finish(200, why);
  }

  /** Rejects the caller (if not answered yet), cancels the forks and ends the call. */
  private async fail(
    status: number,
    reason: string,
    retryAfter?: number,
    challenge?: Record<string, string>,
  ): Promise<void> {
    if (this.state === 'ended') return;
    this.forks.cancelAll();
    // RFC 3261 §21.5.4: a 503 may say when to come back.
    const headers = { ...(retryAfter ? { 'Retry-After': String(retryAfter) } : {}), ...challenge };
    await this.plan.onRefused?.(status, headers).catch((error: unknown) => {
      this.log.warn({ err: error }, 'could not count the refusal');
    });
    // A challenged caller comes back at once with a new INVITE of this Call-ID (the relay's call-id):
    // this attempt's relay session must be gone before it may.
    if (challenge) await this.finish(status, reason);
    if (!this.res.finalResponseSent) this.res.send(status, reason, { headers });
    await this.finish(status, reason);
  }

  /** Ends the call exactly once: timers, media, CDR, registry. */
  private finish(status: number, reason: string): Promise<void> {
    if (this.finished) return this.finished;
    const wasAnswered = this.state === 'answered';
    this.state = 'ended';
    this.deps.onState?.(this);
    this.round?.stop();
    this.earlySession?.close();
    clearTimeout(this.durationTimer);
    clearTimeout(this.creditTimer);
    for (const release of this.releases.splice(0)) release();
    const endedAt = new Date();
    this.finished = (async () => {
      const stats = await this.media.end();
      const id = await this.cdrId;
      await this.deps.cdr.finish(id, this.plan.cdr, {
        bLegId: this.bLegId,
        callerRouted: this.stage.callerRouted ?? this.plan.callerRouted,
        calleeRouted: this.stage.calleeRouted,
        calleeSubscriberId: this.stage.calleeSubscriberId,
        calleeCustomerId: this.stage.calleeCustomerId,
        forwardedFrom: this.stage.forwardedFrom,
        forwardType: this.stage.forwardType,
        billedSubscriberId: this.stage.payer?.subscriberId,
        billedCustomerId: this.stage.payer?.customerId,
        peerGatewayId: this.gatewayId ?? this.plan.cdr.peerGatewayId,
        answeredAt: this.answeredAt,
        endedAt,
        disposition: wasAnswered ? 'answered' : dispositionOf(status),
        sipCode: wasAnswered ? 200 : status,
        sipReason: reason,
        mediaStats: cdrMediaStats(stats, this.aTag, this.bTag),
        pushWaitMs: this.pushWaitMs,
      });
      // The relay closed the capture with the delete above; the files are made in the background.
      const recording = await this.recording;
      if (recording)
        void recording.finish({ cdrId: id, callId: this.callId, stats, aTag: this.aTag, bTag: this.bTag });
      this.onEnded?.();
      this.resolveEnded?.();
    })();
    return this.finished;
  }
}
