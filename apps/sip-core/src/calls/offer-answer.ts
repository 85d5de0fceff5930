import {
  type DtmfFeed,
  type LegProfile,
  type MediaRelay,
  type MediaSession,
  sdpCodecs,
} from '@switchboard/media';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { CallState } from './call-types.ts';
import { answerDtmfInfo } from './dtmf-info.ts';
import { relayKeysAsInfo } from './dtmf-to-info.ts';
import { withoutOriginUser } from './privacy.ts';
import { sessionRefreshHeaders } from './session-refresh.ts';
import {
  type HeaderModifier,
  localSdpOf,
  type SipErrorLike,
  sendUpdate,
  settleRefusedModify,
  tagOf,
} from './srf-dialog.ts';

/** What the offer/answer relay knows of its call. */
export interface OfferAnswerContext {
  /** The A leg's Call-ID: the relay's call-id. */
  callId: string;
  /** The caller's From tag: the relay's name for the caller's side. */
  aTag: string;
  /** The caller's INVITE: its offer and where it came from. */
  callerInvite: Srf.SrfRequest;
  callerProfile: LegProfile;
  /** SDP towards the callee loses its origin username (see `CallPlan.withheld`). */
  withheld: boolean;
  media: MediaRelay;
  srf: Srf;
  log: Logger;
  /** The call's state now: a CANCEL or a timeout may end it during any await. */
  state(): CallState;
  /** The leg profile of the destination ringing now. */
  calleeProfile(): LegProfile | undefined;
  /**
   * Headers of an in-dialog request or response sent to `to` (a peer's header rules, docs/sbc.md);
   * `received`: the other side's request that caused it.
   */
  headersTo?(to: Side, method: string, received?: Srf.SrfRequest): Record<string, string>;
  /** The relay's DTMF feed: the caller's RFC 4733 keys for a callee that wants INFO; unset: none. */
  dtmfFeed?: DtmfFeed | undefined;
  /** The caller is a peer that wants DTMF as INFO: the callee's RFC 4733 keys reach it that way. */
  callerDtmfInfo?: boolean | undefined;
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

export type Side = 'caller' | 'callee';

/** Two profiles ask the relay for the same leg (gateways and devices may each carry their own copy). */
function sameProfile(a: LegProfile | undefined, b: LegProfile | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));
}

/**
 * The offer/answer model (RFC 3264) of one B2BUA call through the media relay: the caller's offer
 * towards the leg being rung, the early and final answers back, then every new offer of either side
 * (re-INVITE, UPDATE) relayed to the other, and the relay put back to the last completed exchange
 * when the other side refuses one.
 */
export class OfferAnswer {
  session: MediaSession | undefined;
  /**
   * The caller's offer as rewritten by the relay, and the profile of the leg it was made for: the last
   * one made, which is what the relay's session holds towards the callee now.
   */
  private offerSdp: string | undefined;
  private offeredProfile: LegProfile | undefined;
  /** The offer made for each profile of the stage being rung (forks of different kinds). */
  private readonly offers: Array<{ profile: LegProfile; sdp: string }> = [];
  /**
   * The fork whose 183 with SDP was relayed to the caller: its early dialog (engine dialog id) and To
   * tag, for UPDATEs before the answer (RFC 3311 §5.1).
   */
  private early: { dialogId?: string | undefined; toTag: string } | undefined;
  /** An offer (re-INVITE or UPDATE) is being relayed: another one meanwhile gets 491 (RFC 3311 §5.2). */
  private offerPending = false;
  private negotiated: Negotiated | undefined;
  /** The two confirmed dialogs and the callee's tag, once the call is answered. */
  private uas: Srf.Dialog | undefined;
  private uac: Srf.Dialog | undefined;
  private bTag: string | undefined;
  /** Stops turning a side's RFC 4733 keys into INFO (the call's end). */
  private readonly stopKeys: Array<() => void> = [];

  constructor(private readonly ctx: OfferAnswerContext) {}

  private get callId(): string {
    return this.ctx.callId;
  }

  private isOver(): boolean {
    const state = this.ctx.state();
    return state === 'ended' || state === 'answered';
  }

  /** The profile of the callee's side: the one the caller's offer was made for, else the stage's. */
  private calleeProfile(): LegProfile {
    return this.offeredProfile ?? this.ctx.calleeProfile() ?? this.ctx.callerProfile;
  }

  /** The caller's offer through the relay, towards a leg of `profile` (again when that changes). */
  async offerTowards(profile: LegProfile, again = false): Promise<void> {
    const sdp = this.ctx.callerInvite.body;
    if (!sdp || (this.offeredProfile === profile && !again)) return;
    const offer = await this.ctx.media.offer({
      callId: this.callId,
      fromTag: this.ctx.aTag,
      sdp,
      legProfile: this.ctx.callerProfile,
      otherLegProfile: profile,
      sourceAddress: this.ctx.callerInvite.source_address,
    });
    this.session = offer.session;
    this.offerSdp = offer.sdp;
    this.offeredProfile = profile;
  }

  /**
   * The caller's offer towards every kind of leg a stage rings at once: a subscriber with a browser
   * (WebRTC: ICE, DTLS-SRTP) and a desk phone (plain RTP) registered gets each fork an offer for its own
   * profile. rtpengine holds one session per call and caller tag, so the offers are made one after the
   * other on it: the ports towards the callee stay the same and only the profile changes; whichever fork
   * answers, the relay is given that fork's offer again first (see `finalAnswer`). Browsers' profile
   * goes last: re-offering plain RTP changes nothing a plain phone was told, while a browser's ICE
   * credentials are best left as they were sent.
   */
  async offersTowards(profiles: LegProfile[]): Promise<void> {
    const distinct: LegProfile[] = [];
    for (const profile of profiles)
      if (!distinct.some((p) => sameProfile(p, profile))) distinct.push(profile);
    distinct.sort((a, b) => Number(a.transport === 'webrtc') - Number(b.transport === 'webrtc'));
    const only = distinct[0];
    if (distinct.length === 1 && only) {
      await this.offerTowards(only);
      if (this.offerSdp) this.offers.splice(0, this.offers.length, { profile: only, sdp: this.offerSdp });
      return;
    }
    this.offers.length = 0;
    for (const profile of distinct) {
      await this.offerTowards(profile, true);
      if (this.ctx.state() === 'ended') return;
      if (this.offerSdp) this.offers.push({ profile, sdp: this.offerSdp });
    }
  }

  /** The offer a B leg's INVITE carries: the one made for its profile (`offersTowards`), else the last one. */
  calleeOffer(profile?: LegProfile): string {
    const made = profile && this.offers.find((o) => sameProfile(o.profile, profile));
    return this.towardsCallee(made?.sdp ?? this.offerSdp ?? this.ctx.callerInvite.body);
  }

  /**
   * The relay's session is put back to the offer the answering fork (a leg of `profile`) was sent,
   * when the last offer made was for another kind of leg.
   */
  private async offeredTo(profile: LegProfile | undefined): Promise<void> {
    if (!profile || !this.session || sameProfile(profile, this.offeredProfile)) return;
    await this.offerTowards(profile, true);
  }

  /**
   * A fork's 183 with SDP: its answer through the relay, for the caller; undefined when there is
   * nothing to relay (no session, no To tag, or the call was answered or ended meanwhile).
   */
  async earlyAnswer(provisional: Srf.SrfResponse, profile?: LegProfile): Promise<string | undefined> {
    const toTag = tagOf(provisional.get('To'));
    if (!this.session || !toTag) return undefined;
    await this.offeredTo(profile);
    if (this.isOver()) return undefined;
    const body = provisional.body;
    const answer = await this.session.answer({
      toTag,
      sdp: body,
      sourceAddress: provisional.source_address,
    });
    if (this.isOver()) return undefined;
    this.negotiatedCaller(toTag, body, provisional.source_address);
    const bTag = tagOf(provisional.get('From'));
    if (bTag) this.early = { dialogId: `${provisional.get('Call-ID')};from-tag=${bTag}`, toTag };
    return answer.sdp;
  }

  /** The answering fork's (a leg of `profile`) 2xx answer through the relay, for the caller's 200. */
  async finalAnswer(uac: Srf.Dialog, profile?: LegProfile): Promise<string> {
    let answerSdp = uac.remote.sdp;
    // The last offer made was for another kind of fork than the one answering.
    if (answerSdp && !sameProfile(profile ?? this.offeredProfile, this.offeredProfile)) {
      await this.offeredTo(profile);
      this.early = undefined;
    }
    // The relay took another fork's early answer (a 183 with SDP from a device or a forward destination
    // that did not answer): rtpengine narrowed the caller's side to what that fork answered (its
    // codecs), and would rewrite this answer to match it. The caller's offer, made again, puts the
    // session back to the offer this fork was sent (same ports: same call and tags) before its answer.
    const answeringTag = uac.sip.remoteTag;
    if (this.session && answerSdp && this.early && this.early.toTag !== answeringTag) {
      await this.offerTowards(profile ?? this.offeredProfile ?? this.ctx.callerProfile, true);
      this.early = undefined;
    }
    if (answerSdp) this.negotiatedCaller(answeringTag, answerSdp, uac.req?.source_address);
    if (this.session && answerSdp) {
      answerSdp = (
        await this.session.answer({
          toTag: answeringTag,
          sdp: answerSdp,
          sourceAddress: uac.req?.source_address,
        })
      ).sdp;
    }
    return answerSdp;
  }

  /**
   * The answer of a media application of ours (voicemail) that took the call itself under `toTag`,
   * through the relay: for the caller's 200.
   */
  async localAnswer(toTag: string, sdp: string): Promise<string> {
    // A device rang first and its 183 narrowed the caller's side (see `finalAnswer`): offered again.
    if (this.session && this.early) {
      await this.offerTowards(this.offeredProfile ?? this.ctx.callerProfile, true);
      this.early = undefined;
    }
    this.negotiatedCaller(toTag, sdp, undefined);
    this.bTag = toTag;
    if (!this.session) return sdp;
    return (await this.session.answer({ toTag, sdp })).sdp;
  }

  /**
   * The answer of a media application of ours that plays to the caller before any answer (early media,
   * an auto-attendant's greeting) under `toTag`, through the relay: for the caller's 183. A fork that
   * answers later is given the caller's offer again first (`finalAnswer`: the relay took this answer).
   * No early dialog of a B leg exists, so an UPDATE meanwhile gets 500 with Retry-After (RFC 3311 §5.2).
   */
  async localEarlyAnswer(toTag: string, sdp: string): Promise<string> {
    this.negotiatedCaller(toTag, sdp, undefined);
    this.early = { toTag };
    if (!this.session) return sdp;
    return (await this.session.answer({ toTag, sdp })).sdp;
  }

  /** The call is answered: later offers (re-INVITE, UPDATE) travel in these two dialogs. */
  bridged(uas: Srf.Dialog, uac: Srf.Dialog): void {
    this.uas = uas;
    this.uac = uac;
    this.bTag = uac.sip.remoteTag;
    uas.on('modify', (req: Srf.SrfRequest, res: Srf.SrfResponse) => void this.reinvite('caller', req, res));
    uac.on('modify', (req: Srf.SrfRequest, res: Srf.SrfResponse) => void this.reinvite('callee', req, res));
    uas.on('update', (req: Srf.SrfRequest, res: Srf.SrfResponse) => void this.update('caller', req, res));
    uac.on('update', (req: Srf.SrfRequest, res: Srf.SrfResponse) => void this.update('callee', req, res));
    // A peer that signals DTMF with INFO (its codec policy): each key is played to the caller as RFC 4733.
    const bTag = this.bTag;
    if (this.calleeProfile().codecs?.dtmfInfo && bTag && this.session) {
      const session = this.session;
      uac.on('info', (req: Srf.SrfRequest, res: Srf.SrfResponse) => {
        void answerDtmfInfo(req, res, (key) => session.playDtmf({ ...key, tag: bTag }), this.ctx.log);
      });
      // ... and the caller's RFC 4733 keys, seen by the relay, reach the peer as INFO.
      this.keysAsInfo(this.ctx.aTag, uac);
    }
    // A calling peer that wants INFO: the callee's keys (sent by the callee's tag) reach it in the
    // caller's dialog.
    if (this.ctx.callerDtmfInfo && bTag) this.keysAsInfo(bTag, uas);
  }

  /** The RFC 4733 keys the relay reports from `sourceTag` become INFO requests in `dialog`. */
  private keysAsInfo(sourceTag: string, dialog: Srf.Dialog): void {
    if (!this.ctx.dtmfFeed || !this.session) return;
    this.stopKeys.push(
      relayKeysAsInfo({ feed: this.ctx.dtmfFeed, callId: this.callId, sourceTag, dialog, log: this.ctx.log }),
    );
  }

  /**
   * What the live-calls view shows of the media: the codecs of the last completed exchange's answer
   * (the first is the one in use) and the relay instance holding the call (null when not anchored).
   */
  describe(): { codecs: string[]; relay: string | null } {
    return {
      codecs: this.negotiated ? sdpCodecs(this.negotiated.answer) : [],
      relay: this.session?.instance ?? null,
    };
  }

  /** Ends the relay's session (or drops whatever the relay holds for the call); its final statistics. */
  end(): ReturnType<MediaSession['end']> {
    for (const stop of this.stopKeys.splice(0)) stop();
    return this.session ? this.session.end() : this.ctx.media.delete(this.callId).catch(() => null);
  }

  /** The caller's INVITE offer answered by the callee (early or final answer). */
  private negotiatedCaller(answerTag: string, answer: string, answerSource: string | undefined): void {
    const offer = this.ctx.callerInvite.body;
    if (!offer) return;
    this.negotiated = {
      offerTag: this.ctx.aTag,
      answerTag,
      offer,
      answer,
      offererProfile: this.ctx.callerProfile,
      answererProfile: this.calleeProfile(),
      offerSource: this.ctx.callerInvite.source_address,
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
    if (!last || !this.session || this.ctx.state() === 'ended') return;
    try {
      await this.ctx.media.offer({
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
      this.ctx.log.info('media restored to the last negotiated offer and answer');
    } catch (error) {
      this.ctx.log.warn({ err: error }, 'could not restore the media session after a refused offer');
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
  async update(from: Side, req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<void> {
    const refresh = sessionRefreshHeaders(req);
    if (!req.body) return res.send(200, '', { headers: refresh });
    if (this.ctx.state() === 'ended') return res.send(481, 'Call/Transaction Does Not Exist', {});
    const calleeTag = this.bTag ?? this.early?.toTag;
    const aTag = this.ctx.aTag;
    const ownTag = from === 'caller' ? aTag : tagOf(req.get('From'));
    const otherTag = from === 'caller' ? calleeTag : aTag;
    // Before the answer only the fork whose early answer the caller got has an offer/answer to change
    // (§5.1); anything else is asked to retry later (§5.2).
    if (!calleeTag || !ownTag || !otherTag || (from === 'callee' && ownTag !== calleeTag))
      return res.send(500, 'Server Internal Error', { headers: { 'Retry-After': '1' } });
    if (this.offerPending) return res.send(491, 'Request Pending', {});
    this.offerPending = true;
    const [ownProfile, otherProfile] = this.profilesFrom(from);
    let relayed = false;
    try {
      let offer: string = req.body;
      if (this.session) {
        relayed = true;
        offer = await this.relayOffer(req, ownTag, otherTag, offer, ownProfile, otherProfile);
      }
      const answer =
        from === 'caller'
          ? await this.sendUpdate('callee', this.towardsCallee(offer), req)
          : await this.sendUpdate('caller', offer, req);
      if (answer.status < 200 || answer.status >= 300) {
        this.ctx.log.info({ from, status: answer.status }, 'UPDATE refused by the other side');
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
        headers: {
          ...this.headersTo(from, 'UPDATE'),
          ...(sdp ? { 'Content-Type': 'application/sdp' } : {}),
          ...refresh,
        },
      });
    } catch (error) {
      const status = (error as SipErrorLike).status;
      this.ctx.log.info({ err: error, from }, 'UPDATE failed');
      if (relayed) await this.restoreMedia();
      res.send(typeof status === 'number' && status >= 400 ? status : 500);
    } finally {
      this.offerPending = false;
    }
  }

  /**
   * Re-INVITE (hold, resume, codec change; RFC 3261 §14): the new offer goes through the relay to the
   * other leg, its answer back through the relay. A failure answers the re-INVITE with the other leg's
   * code and leaves the session as it was (§14.1).
   */
  async reinvite(from: Side, req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<void> {
    const other = from === 'caller' ? this.uac : this.uas;
    if (!other) return res.send(500);
    const aTag = this.ctx.aTag;
    const ownTag = from === 'caller' ? aTag : (this.bTag ?? '');
    const otherTag = from === 'caller' ? (this.bTag ?? '') : aTag;
    // Glare with an UPDATE being relayed (RFC 3261 §14.2).
    if (this.offerPending) return res.send(491, 'Request Pending', {});
    this.offerPending = true;
    let relayed = false;
    const [ownProfile, otherProfile] = this.profilesFrom(from);
    try {
      let offer = req.body;
      if (offer && this.session) {
        relayed = true;
        offer = await this.relayOffer(req, ownTag, otherTag, offer, ownProfile, otherProfile);
      }
      const localSdp = localSdpOf(other);
      let answer: string | undefined;
      try {
        const sdp = from === 'caller' && offer ? this.towardsCallee(offer) : offer;
        const headers = this.headersTo(from === 'caller' ? 'callee' : 'caller', 'INVITE', req);
        answer = await (Object.keys(headers).length > 0
          ? (other as unknown as HeaderModifier).modify(sdp, { headers })
          : other.modify(sdp));
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
      res.send(200, {
        body: answer,
        headers: { ...this.headersTo(from, 'INVITE'), 'Content-Type': 'application/sdp' },
      });
    } catch (error) {
      const status = (error as SipErrorLike).status;
      this.ctx.log.info({ err: error, from }, 're-INVITE failed');
      if (relayed) await this.restoreMedia();
      res.send(typeof status === 'number' && status >= 400 ? status : 500);
    } finally {
      this.offerPending = false;
    }
  }

  /** The profiles of the offering side and of the other side. */
  private profilesFrom(from: Side): [LegProfile, LegProfile] {
    const callerProfile = this.ctx.callerProfile;
    const calleeProfile = this.calleeProfile();
    return from === 'caller' ? [callerProfile, calleeProfile] : [calleeProfile, callerProfile];
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
    const relayed = await this.ctx.media.offer({
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
  private sendUpdate(to: Side, sdp: string, received: Srf.SrfRequest): Promise<Srf.SrfResponse> {
    const dialog = to === 'caller' ? this.uas : this.uac;
    const earlyDialogId = to === 'caller' ? `${this.callId};from-tag=${this.ctx.aTag}` : this.early?.dialogId;
    return sendUpdate(this.ctx.srf, dialog, earlyDialogId, sdp, this.headersTo(to, 'UPDATE', received));
  }

  /** Headers of an in-dialog request or response towards `to` (see `OfferAnswerContext.headersTo`). */
  private headersTo(to: Side, method: string, received?: Srf.SrfRequest): Record<string, string> {
    return this.ctx.headersTo?.(to, method, received) ?? {};
  }

  /** SDP of the caller's side as the callee may see it (see `CallPlan.withheld`). */
  towardsCallee(sdp: string): string {
    return this.ctx.withheld ? withoutOriginUser(sdp) : sdp;
  }
}
