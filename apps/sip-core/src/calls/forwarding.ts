import type { NumberingIndex } from '@switchboard/numbering';
import type { Logger } from 'pino';
import type { ForwardType } from '../cdr/cdr-writer.ts';
import type { CachedSubscriber, Directory } from '../directory/directory.ts';
import type { Call } from './call.ts';
import type { CallForward, CallForwards, ForwardDestination } from './call-forwards.ts';
import type { CallStage, RingOutcome, StageFailure } from './call-types.ts';

/**
 * A forward chain deeper than this (a forwards to b forwards to c ...) stops with 482, as does one that
 * comes back to a subscriber it already reached.
 */
export const MAX_FORWARD_HOPS = 5;

/** Diversion reasons (RFC 5806 §4) and History-Info causes (RFC 4458 §2) of each forward type. */
const DIVERSION_REASON: Record<ForwardType, string> = {
  cfu: 'unconditional',
  cfb: 'user-busy',
  cft: 'no-answer',
  cfna: 'unavailable',
};
const HISTORY_CAUSE: Record<ForwardType, number> = { cfu: 302, cfb: 486, cft: 408, cfna: 404 };

/** A refusal before anything rang (unknown destination, limits, no route). */
export interface Refusal {
  status: number;
  reason: string;
}

export interface ForwardingDeps {
  forwards: CallForwards;
  directory: Directory;
  numbering?: NumberingIndex | undefined;
  /** Seconds a destination rings when neither the forward nor the destination says. */
  ringTimeoutS: number;
  log: Logger;
  /**
   * The registered devices of `callee` as a stage; `admit`: count the call for the callee's
   * concurrency limits (a refusal when over), `release` gives the count back.
   */
  subscriberStage(
    callee: CachedSubscriber,
    admit: boolean,
  ): Promise<{ stage: Omit<CallStage, 'ringTimeoutS'>; release(): void } | Refusal>;
  /**
   * The forwarding subscriber's voicemail box takes the call (a `voicemail` destination, answered by
   * our media endpoint); a failure when it has no box or it is off. Unset: voicemail is not served.
   */
  voicemail?(
    call: Call,
    owner: CachedSubscriber,
    via: { forwardedFrom: string; forwardType: ForwardType },
  ): Promise<RingOutcome>;
  /** An outgoing call of `subscriber` to `e164` through LCR (the same path as its own calls). */
  pstnStage(subscriber: CachedSubscriber, e164: string): Promise<Omit<CallStage, 'ringTimeoutS'> | Refusal>;
}

/** What the caller's INVITE already carried, kept on every forwarded leg. */
export interface ReceivedHistory {
  /** Request-URI the INVITE arrived with (History-Info's first entry when none was received). */
  requestUri: string;
  diversion?: string | undefined;
  historyInfo?: string | undefined;
}

interface Diversion {
  /** The forwarding subscriber. */
  from: CachedSubscriber;
  type: ForwardType;
  /** The status that made it forward (absent for CFU), for History-Info's Reason. */
  status?: number | undefined;
  /** Where it went: the new target's URI. */
  to: string;
}

function isRefusal(value: object): value is Refusal {
  return 'status' in value && typeof (value as Refusal).status === 'number';
}

const failed = (status: number, reason: string): StageFailure => ({
  kind: 'failed',
  status,
  reason,
  timedOut: false,
  statuses: [status],
});

/** Why a stage failed, as a forward condition: which forward applies (if configured). */
export function forwardCause(outcome: StageFailure, cftApplies: boolean): ForwardType | undefined {
  if (outcome.timedOut) return cftApplies ? 'cft' : undefined;
  if (outcome.status === 486 || outcome.status === 600) return 'cfb';
  // Not reachable: nothing registered, or every fork timed out, failed on the server side or could
  // not be reached (drachtio reports a transport failure as 503/408).
  const unreachable = (s: number): boolean => s === 408 || s === 480 || s >= 500;
  if (outcome.statuses.length === 0 || outcome.statuses.every((s) => unreachable(s) && s < 600))
    return 'cfna';
  return undefined;
}

/**
 * Runs a call to a subscriber with its call forwards: CFU sends it on at once, the devices ring
 * otherwise and CFB (busy), CFT (no answer within the forward's ring timeout) or CFNA (nothing
 * registered or no device reachable) send it on when they fail. A forward's destinations are tried
 * in position order; a destination that is a subscriber brings its own forwards. Each forwarded leg
 * carries Diversion (RFC 5806) and History-Info (RFC 7044 with RFC 4458 causes).
 */
export class ForwardingRoute {
  private readonly visited = new Set<string>();
  /** The forwards that led to the destination being tried now, oldest first (the chain's depth). */
  private readonly diversions: Diversion[] = [];
  private loop = false;

  constructor(
    private readonly deps: ForwardingDeps,
    private readonly callee: CachedSubscriber,
    private readonly received: ReceivedHistory,
  ) {}

  /** For `CallPlan.route`: the original callee, already counted for its limits by the caller. */
  run(call: Call): Promise<RingOutcome> {
    return this.reach(call, this.callee, undefined, false);
  }

  private async reach(
    call: Call,
    subscriber: CachedSubscriber,
    destinationTimeoutS: number | undefined,
    admit: boolean,
  ): Promise<RingOutcome> {
    if (this.visited.has(subscriber.id)) return this.loopDetected(subscriber);
    this.visited.add(subscriber.id);
    const { forwards } = this.deps;
    const cfu = forwards.of(subscriber.id, 'cfu');
    if (cfu) return this.forward(call, subscriber, cfu, undefined);

    const built = await this.deps.subscriberStage(subscriber, admit);
    if (isRefusal(built)) {
      const cfb = built.status === 486 ? forwards.of(subscriber.id, 'cfb') : undefined;
      if (cfb) return this.forward(call, subscriber, cfb, built.status);
      const last = this.diversions.at(-1);
      if (last)
        call.retarget({
          calleeRouted: aorOf(subscriber),
          forwardedFrom: aorOf(last.from),
          forwardType: last.type,
        });
      return failed(built.status, built.reason);
    }
    // The shorter of the destination's timeout and the subscriber's own CFT timeout ends the ringing;
    // only the CFT's expiry forwards (the destination's moves on to the next destination).
    const cft = forwards.of(subscriber.id, 'cft');
    const cftTimeoutS = cft ? (cft.ringTimeoutS ?? this.deps.ringTimeoutS) : undefined;
    const ringTimeoutS = Math.min(
      destinationTimeoutS ?? this.deps.ringTimeoutS,
      cftTimeoutS ?? Number.POSITIVE_INFINITY,
    );
    const outcome = await call.ring({ ...this.diverted(built.stage), ringTimeoutS });
    if (outcome.kind !== 'failed') {
      void call.ended.then(built.release);
      return outcome;
    }
    built.release();
    const cause = forwardCause(outcome, cftTimeoutS !== undefined && cftTimeoutS <= ringTimeoutS);
    const forward = cause ? forwards.of(subscriber.id, cause) : undefined;
    if (!forward) return outcome;
    this.deps.log.info(
      { subscriber: subscriber.id, type: forward.type, status: outcome.status },
      'forwarding the call',
    );
    return this.forward(call, subscriber, forward, outcome.timedOut ? 408 : outcome.status, outcome);
  }

  /** Tries the forward's destinations in order; the first that answers wins. */
  private async forward(
    call: Call,
    subscriber: CachedSubscriber,
    forward: CallForward,
    status: number | undefined,
    previous?: StageFailure,
  ): Promise<RingOutcome> {
    let last: RingOutcome = previous ?? failed(480, 'Temporarily Unavailable');
    for (const destination of forward.destinations) {
      if (this.diversions.length >= MAX_FORWARD_HOPS) {
        call.retarget({
          calleeRouted: destination.destination,
          forwardedFrom: aorOf(subscriber),
          forwardType: forward.type,
        });
        return this.loopDetected(subscriber);
      }
      const outcome = await this.destination(call, subscriber, forward, destination, status);
      if (outcome.kind !== 'failed' || this.loop) return outcome;
      last = outcome;
    }
    return last;
  }

  private async destination(
    call: Call,
    from: CachedSubscriber,
    forward: CallForward,
    destination: ForwardDestination,
    status: number | undefined,
  ): Promise<RingOutcome> {
    const { deps } = this;
    if (destination.kind === 'voicemail') {
      if (!deps.voicemail) return failed(404, 'Not Found');
      return deps.voicemail(call, from, { forwardedFrom: aorOf(from), forwardType: forward.type });
    }
    const target = this.resolve(from, destination);
    const refused = (refusal: Refusal, callee: string): StageFailure => {
      deps.log.warn(
        { forward: forward.id, destination: destination.destination, status: refusal.status },
        'forward destination refused',
      );
      call.retarget({ calleeRouted: callee, forwardedFrom: aorOf(from), forwardType: forward.type });
      return failed(refusal.status, refusal.reason);
    };
    if (isRefusal(target)) return refused(target, destination.destination);
    const diversion: Diversion = {
      from,
      type: forward.type,
      status,
      to: 'subscriber' in target ? aorOf(target.subscriber) : `sip:${target.e164}@${from.domain}`,
    };
    this.diversions.push(diversion);
    try {
      if ('subscriber' in target) {
        if (this.visited.has(target.subscriber.id)) {
          call.retarget({
            calleeRouted: diversion.to,
            forwardedFrom: aorOf(from),
            forwardType: forward.type,
          });
          return this.loopDetected(target.subscriber);
        }
        return await this.reach(call, target.subscriber, destination.ringTimeoutS, true);
      }
      const stage = await deps.pstnStage(from, target.e164);
      if (isRefusal(stage)) return refused(stage, target.e164);
      return await call.ring({
        ...this.diverted(stage),
        ringTimeoutS: destination.ringTimeoutS ?? deps.ringTimeoutS,
      });
    } finally {
      this.diversions.pop();
    }
  }

  /** A destination as a subscriber of ours (URI, or a number that is one of our DIDs) or a PSTN number. */
  private resolve(
    from: CachedSubscriber,
    destination: ForwardDestination,
  ): { subscriber: CachedSubscriber } | { e164: string } | Refusal {
    const { directory, numbering } = this.deps;
    let dialled = destination.destination.trim();
    if (destination.kind === 'uri') {
      const match = /^(?:sips?:)?([^@;>]+)(?:@([^;>:]+))?/i.exec(dialled.replace(/^<|>$/g, ''));
      const user = match?.[1] ?? '';
      const host = match?.[2] ?? from.domain;
      const subscriber = directory.findSubscriber(user, host);
      if (subscriber) return subscriber.enabled ? { subscriber } : { status: 404, reason: 'Not Found' };
      // A URI of a foreign host is not followed (that would make us an open relay); its number is.
      if (!directory.servesDomain(host) || !/^\+?[\d\s\-.()/]+$/.test(user))
        return { status: 404, reason: 'Not Found' };
      dialled = user;
    }
    if (!numbering) return { status: 404, reason: 'Not Found' };
    let e164: string | undefined;
    try {
      // The forwarding subscriber's dial plan, as if it dialled the number itself.
      const normalised = numbering.normalise(from.domain, dialled, from.id);
      if (normalised.kind === 'e164') e164 = normalised.e164;
    } catch {
      e164 = undefined;
    }
    if (!e164) return { status: 484, reason: 'Address Incomplete' };
    const mapping = numbering.lookupNumber(e164);
    if (!mapping) return { e164 };
    const subscriber = directory.findSubscriber(mapping.username, mapping.domain);
    return subscriber?.enabled ? { subscriber } : { status: 404, reason: 'Not Found' };
  }

  private loopDetected(subscriber: CachedSubscriber): StageFailure {
    this.loop = true;
    this.deps.log.warn(
      { subscriber: subscriber.id, depth: this.diversions.length },
      'call forward loop or too many forwards: stopping',
    );
    return failed(482, 'Loop Detected');
  }

  /** A stage reached through the forwards so far: their headers on each leg, the last one in the CDR. */
  private diverted(stage: Omit<CallStage, 'ringTimeoutS'>): Omit<CallStage, 'ringTimeoutS'> {
    const last = this.diversions.at(-1);
    if (!last) return stage;
    const headers = this.headers();
    return {
      ...stage,
      targets: stage.targets.map((t) => ({ ...t, headers: { ...t.headers, ...headers } })),
      forwardedFrom: aorOf(last.from),
      forwardType: last.type,
    };
  }

  /** Diversion and History-Info of a forwarded leg; the received ones are kept (empty: not forwarded). */
  headers(): Record<string, string> {
    if (this.diversions.length === 0) return {};
    // RFC 5806 §4: the most recent diversion first, each with its counter.
    const diversion = [...this.diversions]
      .reverse()
      .map((d) => `<${this.divertingUri(d.from)}>;reason=${DIVERSION_REASON[d.type]};counter=1`);
    if (this.received.diversion) diversion.push(this.received.diversion);

    // RFC 7044: the received entries, then one entry per retarget, each a child of the previous; the
    // retargeted-from entry carries the Reason of the response that caused it (§4.3.3.1.3) and the new
    // target the RFC 4458 cause, tagged `mp` (retargeted to another user, §10.3).
    const received = this.received.historyInfo;
    const entries: string[] = received ? [received] : [];
    let index = received ? (lastIndex(received) ?? '1') : '1';
    if (!received)
      entries.push(`<${withReason(this.received.requestUri, this.diversions[0]?.status)}>;index=1`);
    this.diversions.forEach((d, i) => {
      const parent = index;
      index = `${index}.1`;
      const target = withReason(`${d.to};cause=${HISTORY_CAUSE[d.type]}`, this.diversions[i + 1]?.status);
      entries.push(`<${target}>;index=${index};mp=${parent}`);
    });
    return { Diversion: diversion.join(', '), 'History-Info': entries.join(', ') };
  }

  /** The forwarding subscriber as the Diversion names it: its primary number, else its AOR. */
  private divertingUri(subscriber: CachedSubscriber): string {
    const number = this.deps.numbering?.presentSubscriber(subscriber.id)?.number;
    return number ? `sip:${number}@${subscriber.domain}` : aorOf(subscriber);
  }
}

function aorOf(subscriber: CachedSubscriber): string {
  return `sip:${subscriber.username}@${subscriber.domain}`;
}

/** A History-Info URI with the Reason (RFC 3326) of the response that retargeted it. */
function withReason(uri: string, status: number | undefined): string {
  return status ? `${uri}?Reason=SIP%3Bcause%3D${status}` : uri;
}

/** The `index` of the last entry of a History-Info header value. */
function lastIndex(value: string): string | undefined {
  const all = [...value.matchAll(/;\s*index=([\d.]+)/gi)];
  return all.at(-1)?.[1];
}
