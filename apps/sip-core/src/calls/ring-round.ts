import type { LegProfile } from '@switchboard/media';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import {
  type CallStage,
  type CallTarget,
  isWakeTarget,
  type LegFailure,
  type RingOutcome,
  type RingTarget,
  stageFailure,
} from './call-types.ts';
import type { ClusterRoutes } from './cluster-route.ts';
import { COMPLETED_ELSEWHERE, type PendingForks } from './forks.ts';
import { endDialog, type SipErrorLike, type UpdateEmitter } from './srf-dialog.ts';

/**
 * What a round needs of its call. The call stays the one holder of the B2BUA's state (legs, media,
 * CDR); the round only forks and reports what its legs do, so the call decides what it means.
 */
export interface RingHost {
  readonly srf: Srf;
  readonly log: Logger;
  /** The call's pending forks: a CANCEL from the caller reaches the round's forks through them. */
  readonly forks: PendingForks;
  /** The call ended meanwhile (CANCEL, failure); re-read after every await. */
  hasEnded(): boolean;
  /** Answered or ended: no fork may win any more. */
  isOver(): boolean;
  /** A fork's INVITE went out (its Call-ID and gateway are the CDR's until another one goes out). */
  legSent(bLegId: string, gatewayId: string | undefined): void;
  /** An UPDATE in a fork's early dialog (RFC 3311), answered through the media relay. */
  calleeUpdate(req: Srf.SrfRequest, res: Srf.SrfResponse): void;
  /** A 1xx of a fork (whose leg has `profile`), for the caller. */
  provisional(provisional: Srf.SrfResponse, profile: LegProfile): void;
  /** The round's winner (`target` as it was reached, a leg of `profile`): the call bridges it to the caller. */
  answered(uac: Srf.Dialog, target: CallTarget, profile: LegProfile): Promise<void>;
  /** A peer-side leg's admission count, released when the call ends. */
  keep(release: () => void): void;
  /** How long a fork waited for its device to wake (RFC 8599), for the CDR. */
  pushWaited(ms: number): void;
  /** Devices registered on other nodes are reached through them (cluster-route.ts); unset: one node. */
  readonly cluster?: ClusterRoutes | undefined;
}

/**
 * One round of ringing a stage: its targets in parallel (first 2xx wins) or serially (gateways in LCR
 * order), until one answers, all fail, the stage's ring timeout cancels them, or the call ends. A
 * B2BUA forking its B legs behaves as a forking proxy towards the caller here (RFC 3261 §16.7): the
 * first 2xx wins and the other forks are cancelled (step 10), and the caller hears one final answer.
 */
export class RingRound {
  private over = false;
  private timedOut = false;
  private won = false;
  /** The keys of this round's forks, so a timeout or a winner cancels these and not a later round's. */
  private readonly keys: number[] = [];
  private readonly failures: LegFailure[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: RingHost,
    private readonly stage: CallStage,
    /**
     * The caller's offer as the relay rewrote it for a leg of this profile: forks of one stage may be of
     * different kinds (a browser and a desk phone of one subscriber), each gets the offer made for it.
     */
    private readonly offerFor: (profile: LegProfile) => string,
  ) {}

  /** Rings the stage; resolves with how it ended. */
  async run(): Promise<RingOutcome> {
    const { stage, host } = this;
    // On timeout the stage ends at once: a fork slow to answer our CANCEL does not hold up the route.
    let timeUp: (() => void) | undefined;
    const stopped = new Promise<void>((resolve) => {
      timeUp = resolve;
    });
    this.timer = setTimeout(() => {
      if (host.isOver() || this.won) return;
      host.log.info({ callee: stage.calleeRouted }, 'no answer within the ring timeout');
      this.timedOut = true;
      this.over = true;
      host.forks.cancel(this.keys);
      timeUp?.();
    }, stage.ringTimeoutS * 1000);
    await Promise.race([
      stage.serial ? this.serial() : Promise.all(stage.targets.map((target) => this.attempt(target))),
      stopped,
    ]);
    this.stop();
    this.over = true;
    if (this.won) return host.hasEnded() ? { kind: 'ended' } : { kind: 'answered' };
    if (host.hasEnded()) return { kind: 'ended' };
    return stageFailure(this.failures, stage.serial === true, this.timedOut);
  }

  /** Stops the ring timer (the call was answered or ended, or the round is done). */
  stop(): void {
    clearTimeout(this.timer);
  }

  private async serial(): Promise<void> {
    // Gateways in LCR order: the next one only after a 5xx, 408 or no answer in time (RFC 3261 §16.7
    // leaves the choice to the element; a 4xx/6xx is the callee's answer and ends the hunt).
    for (const target of this.stage.targets) {
      if (this.host.hasEnded() || this.over) break;
      await this.attempt(target);
      if (this.won) break;
      const last = this.failures.at(-1);
      if (last && last.status !== 408 && last.status < 500) break;
      if (last)
        this.host.log.info(
          { gateway: 'gatewayId' in target ? target.gatewayId : undefined, status: last.status },
          'gateway failed, trying the next',
        );
    }
  }

  /** One fork: wake its device if it must, send the INVITE, and take the answer or the failure. */
  private async attempt(ringTarget: RingTarget): Promise<void> {
    const { host } = this;
    const key = host.forks.key();
    this.keys.push(key);
    const target = await this.reachable(ringTarget, key);
    // A device that did not wake in time is one that did not answer (RFC 8599 §7).
    if (!target) return void this.failures.push({ status: 480, reason: 'Temporarily Unavailable' });
    if (this.won || this.over || host.isOver()) return;
    // Call admission control of the gateway (docs/sbc.md): refused, the next gateway is tried.
    const claim = target.claim?.();
    if (claim && !claim.ok) {
      host.log.info(
        { gateway: target.gatewayId, status: claim.status },
        'gateway refused by its admission limits',
      );
      this.failures.push({ status: claim.status, reason: claim.reason, retryAfter: claim.retryAfter });
      return;
    }
    const release = claim?.release ?? (() => {});
    try {
      const uac = await this.invite(target, key);
      host.forks.settled(key);
      if (this.won || this.over || host.isOver()) {
        // A second answer (RFC 3261 §13.2.2.4), or one that crossed our CANCEL: acknowledge and
        // hang up that leg.
        release();
        endDialog(uac);
        return;
      }
      this.won = true;
      host.forks.cancel(this.keys, COMPLETED_ELSEWHERE);
      this.stop();
      host.keep(release);
      await host.answered(uac, target, target.profile);
    } catch (error) {
      release();
      host.forks.settled(key);
      const sipError = error as SipErrorLike;
      const status = typeof sipError.status === 'number' ? sipError.status : 500;
      this.failures.push({
        status,
        reason: sipError.reason ?? 'Server Internal Error',
        challenge: target.relayChallenge ? challengeOf(status, sipError) : undefined,
      });
      if (typeof sipError.status !== 'number') host.log.warn({ err: error }, 'B leg failed');
    }
  }

  /** The fork's INVITE; resolves with its dialog on a 2xx, rejects with its final failure. */
  private invite(reached: CallTarget, key: number): Promise<Srf.Dialog> {
    const { host, stage } = this;
    const target = host.cluster?.route(reached) ?? reached;
    const plain = { uri: target.uri, headers: { From: stage.from, To: stage.to, ...target.headers } };
    const request = target.rewrite ? target.rewrite(plain) : plain;
    return host.srf.createUAC(
      request.uri,
      {
        proxy: target.proxy,
        localSdp: this.offerFor(target.profile),
        headers: request.headers,
        ...(target.auth ? { auth: target.auth } : {}),
      },
      {
        // drachtio-srf calls it as (error, request), whatever its typings say.
        cbRequest: ((_error: unknown, sent: Srf.SrfRequest) => {
          host.forks.sent(key, sent);
          host.legSent(sent.get('Call-ID'), target.gatewayId);
          if (host.hasEnded() || this.over) sent.cancel(() => {});
          // An UPDATE in this fork's early dialog: createUAC answers it with the first offer by
          // itself, which would bypass the relay; once its listener is attached (right after this
          // callback returns) ours replaces it.
          queueMicrotask(() => {
            const emitter = sent as unknown as UpdateEmitter;
            emitter.removeAllListeners('update');
            emitter.on('update', (req, res) => host.calleeUpdate(req, res));
          });
        }) as unknown as (sent: Srf.SrfRequest) => void,
        cbProvisional: (provisional) => host.provisional(provisional, target.profile),
      },
    );
  }

  /**
   * Where a fork goes: a target to wake first pushes its device and waits for its REGISTER (RFC 8599
   * §7; ended early when the round is cancelled); undefined when the device did not come back.
   */
  private async reachable(target: RingTarget, key: number): Promise<CallTarget | undefined> {
    if (!isWakeTarget(target)) return target;
    const wait = new AbortController();
    this.host.forks.waits(key, () => wait.abort());
    const started = Date.now();
    const woken = await target.ready(wait.signal);
    this.host.pushWaited(Date.now() - started);
    this.host.forks.settled(key);
    return (
      woken && {
        ...woken,
        headers: { ...woken.headers, ...target.headers },
        subscriberId: woken.subscriberId ?? target.subscriberId,
      }
    );
  }
}

/** The 401's WWW-Authenticate or the 407's Proxy-Authenticate of a failed fork (RFC 3261 §22.3). */
function challengeOf(status: number, error: SipErrorLike): Record<string, string> | undefined {
  const name = status === 401 ? 'WWW-Authenticate' : status === 407 ? 'Proxy-Authenticate' : undefined;
  const value = name ? error.res?.get(name) : undefined;
  return name && value ? { [name]: value } : undefined;
}
