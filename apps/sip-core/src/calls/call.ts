import type { LegProfile, MediaRelay, MediaSession } from '@switchboard/media';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { CallDisposition, CdrStart, CdrWriter } from '../cdr/cdr-writer.ts';
import { cdrMediaStats } from './media-stats.ts';

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

export interface CallPlan {
  /** Tried in parallel (the first answer wins), or one after the other with `serial`. */
  targets: CallTarget[];
  serial?: boolean;
  /** From and To of the B leg. */
  from: string;
  to: string;
  callerProfile: LegProfile;
  cdr: CdrStart;
  calleeSubscriberId?: string | undefined;
  calleeCustomerId?: string | undefined;
  calleeRouted: string;
  callerRouted: string;
  /** Seconds the callee may ring before the call ends as not answered. */
  ringTimeoutS: number;
  /** Seconds an answered call may last; undefined: unlimited. */
  maxDurationS?: number | undefined;
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
  return 'failed';
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
  private cdrId: Promise<string | undefined>;
  private readonly pending = new Map<number, Srf.SrfRequest>();
  private uas: Srf.Dialog | undefined;
  private uac: Srf.Dialog | undefined;
  private ringTimer: NodeJS.Timeout | undefined;
  private durationTimer: NodeJS.Timeout | undefined;
  private sentProvisional = 0;
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
      calleeSubscriberId: this.plan.calleeSubscriberId,
      startedAt: this.startedAt,
      answeredAt: this.answeredAt,
    };
  }

  /** Sets up the call; resolves when it has ended (any way) and its CDR is written. */
  run(onEnded: () => void): Promise<void> {
    this.onEnded = onEnded;
    this.req.on('cancel', () => this.callerCancelled());
    this.setup().catch((error: unknown) => {
      this.log.error({ err: error }, 'call set-up failed');
      void this.fail(500, 'Server Internal Error');
    });
    return this.ended;
  }

  private async setup(): Promise<void> {
    const { plan, deps } = this;
    let offerSdp = this.req.body;
    if (offerSdp) {
      const offer = await deps.media.offer({
        callId: this.callId,
        fromTag: this.aTag,
        sdp: offerSdp,
        legProfile: plan.callerProfile,
        otherLegProfile: plan.targets[0]?.profile ?? plan.callerProfile,
        sourceAddress: this.req.source_address,
      });
      this.session = offer.session;
      offerSdp = offer.sdp;
    }
    if (this.state === 'ended') return;
    if (plan.targets.length === 0) return this.fail(480, 'Temporarily Unavailable');

    this.ringTimer = setTimeout(() => this.ringTimeout(), plan.ringTimeoutS * 1000);
    const failures: Array<{ status: number; reason: string }> = [];
    let won = false;
    const attempt = async (target: CallTarget, index: number): Promise<void> => {
      try {
        const uac = await deps.srf.createUAC(
          target.uri,
          {
            proxy: target.proxy,
            localSdp: offerSdp,
            headers: { From: plan.from, To: plan.to, ...target.headers },
            ...(target.auth ? { auth: target.auth } : {}),
          },
          {
            // drachtio-srf calls it as (error, request), whatever its typings say.
            cbRequest: ((_error: unknown, sent: Srf.SrfRequest) => {
              this.pending.set(index, sent);
              this.bLegId = sent.get('Call-ID');
              this.gatewayId = target.gatewayId;
              if (this.state === 'ended') sent.cancel(() => {});
            }) as unknown as (sent: Srf.SrfRequest) => void,
            cbProvisional: (provisional) => void this.provisional(provisional),
          },
        );
        this.pending.delete(index);
        if (won || this.state === 'ended') {
          // A second answer (RFC 3261 §13.2.2.4): acknowledge and hang up that leg.
          uac.destroy();
          return;
        }
        won = true;
        this.gatewayId = target.gatewayId;
        await this.answered(uac);
      } catch (error) {
        this.pending.delete(index);
        const sipError = error as SipErrorLike;
        failures.push({
          status: typeof sipError.status === 'number' ? sipError.status : 500,
          reason: sipError.reason ?? 'Server Internal Error',
        });
        if (typeof sipError.status !== 'number') this.log.warn({ err: error }, 'B leg failed');
      }
    };
    if (plan.serial) {
      // Gateways in LCR order: the next one only after a 5xx, 408 or no answer in time (RFC 3261 §16.7
      // leaves the choice to the element; a 4xx/6xx is the callee's answer and ends the hunt).
      for (const [index, target] of plan.targets.entries()) {
        if (this.hasEnded()) break;
        await attempt(target, index);
        if (won) break;
        const last = failures.at(-1);
        if (last && last.status !== 408 && last.status < 500) break;
        if (last)
          this.log.info(
            { gateway: target.gatewayId, status: last.status },
            'gateway failed, trying the next',
          );
      }
      if (!won && !this.hasEnded()) {
        const last = failures.at(-1) ?? { status: 480, reason: 'Temporarily Unavailable' };
        await this.fail(last.status === 408 ? 480 : last.status, last.reason);
      }
      return;
    }
    await Promise.all(plan.targets.map((target, index) => attempt(target, index)));
    if (!won && !this.hasEnded()) {
      const failure = bestFailure(failures);
      await this.fail(failure.status, failure.reason);
    }
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

  /** The first 2xx (RFC 3261 §16.7 step 5): cancel the other forks, answer the caller, bridge. */
  private async answered(uac: Srf.Dialog): Promise<void> {
    clearTimeout(this.ringTimer);
    this.cancelPending();
    this.uac = uac;
    this.bTag = uac.sip.remoteTag;
    this.bLegId = uac.sip.callId;
    let answerSdp = uac.remote.sdp;
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
    const calleeProfile = this.plan.targets[0]?.profile ?? callerProfile;
    try {
      let offer = req.body;
      if (offer && this.session) {
        offer = (
          await this.deps.media.offer({
            callId: this.callId,
            fromTag: ownTag,
            toTag: otherTag,
            sdp: offer,
            legProfile: from === 'caller' ? callerProfile : calleeProfile,
            otherLegProfile: from === 'caller' ? calleeProfile : callerProfile,
            sourceAddress: req.source_address,
          })
        ).sdp;
      }
      let answer = await other.modify(offer);
      if (answer && this.session)
        answer = (await this.session.answer({ fromTag: ownTag, toTag: otherTag, sdp: answer })).sdp;
      res.send(200, { body: answer, headers: { 'Content-Type': 'application/sdp' } });
    } catch (error) {
      const status = (error as SipErrorLike).status;
      this.log.info({ err: error, from }, 're-INVITE failed');
      res.send(typeof status === 'number' && status >= 400 ? status : 500);
    }
  }

  private callerCancelled(): void {
    if (this.state === 'answered' || this.state === 'ended') return;
    // The engine already answered the CANCEL and sent 487 to the caller (RFC 3261 §9.2).
    this.cancelPending();
    void this.finish(487, 'Request Terminated');
  }

  private ringTimeout(): void {
    if (this.state === 'answered' || this.state === 'ended') return;
    this.log.info('no answer within the ring timeout');
    void this.fail(480, 'Temporarily Unavailable');
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
        callerRouted: this.plan.callerRouted,
        calleeRouted: this.plan.calleeRouted,
        calleeSubscriberId: this.plan.calleeSubscriberId,
        calleeCustomerId: this.plan.calleeCustomerId,
        peerGatewayId: this.gatewayId,
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
