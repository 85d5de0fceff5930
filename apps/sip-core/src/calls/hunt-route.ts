import type { NumberingIndex } from '@switchboard/numbering';
import type { Logger } from 'pino';
import type { CachedSubscriber, Directory } from '../directory/directory.ts';
import type { Call } from './call.ts';
import type { CallStage, RingOutcome, RingTarget, StageFailure } from './call-types.ts';
import type { CachedHuntGroup, HuntDestination, HuntGroups } from './hunt-groups.ts';

export interface HuntDeps {
  groups: Pick<HuntGroups, 'memberOrder'>;
  directory: Pick<Directory, 'subscriberById' | 'findSubscriber' | 'servesDomain'>;
  numbering?: NumberingIndex | undefined;
  /** The member is in a call already (skipped as busy). */
  busy(member: CachedSubscriber): Promise<boolean>;
  /** Counts the call for the member that answered, for its limits; the release when it ends. */
  hold(member: CachedSubscriber): Promise<() => void>;
  /** The ring targets of a member's registered devices (empty: nothing registered). */
  devices(member: CachedSubscriber): RingTarget[];
  /** From and To of every member's leg. */
  from: string;
  to: string;
  /** The call to the no-answer destination, a subscriber of ours, with its own call forwards. */
  destinationRoute(subscriber: CachedSubscriber): (call: Call) => Promise<RingOutcome>;
  /**
   * A `voicemail` no-answer destination: the subscriber's box takes the call, with its busy greeting
   * when every member was busy (`allBusy`); unset: not served.
   */
  voicemailRoute?(subscriber: CachedSubscriber, allBusy: boolean): (call: Call) => Promise<RingOutcome>;
  log: Logger;
}

interface Member {
  subscriber: CachedSubscriber;
  targets: RingTarget[];
}

/** The members that can ring now, and how many others were skipped as busy or had nothing registered. */
interface Availability {
  members: Member[];
  busySkipped: number;
  unreachable: number;
}

/** Final statuses that say the callee is busy: 486 Busy Here, 600 Busy Everywhere (RFC 3261 §21.4.24, §21.6.1). */
const BUSY_STATUSES = new Set([486, 600]);

/** A ring that failed only because every fork was busy. */
function busyOnly(outcome: RingOutcome): boolean {
  return (
    outcome.kind === 'failed' &&
    outcome.statuses.length > 0 &&
    outcome.statuses.every((status) => BUSY_STATUSES.has(status))
  );
}

const unavailable = (): StageFailure => ({
  kind: 'failed',
  status: 480,
  reason: 'Temporarily Unavailable',
  timedOut: false,
  statuses: [],
});

/**
 * A call to a hunt group: its available members (enabled, registered, not in a call on this node nor
 * at their concurrency limit)
 * ring all at once (`parallel`, the first answer wins and the others get CANCEL with RFC 3326's
 * "Call completed elsewhere") or one after the other for the group's ring timeout each
 * (`sequential`; `round_robin` starts one member further on each call). When nobody answered, the
 * no-answer destination takes the call.
 */
export class HuntRoute {
  constructor(
    private readonly deps: HuntDeps,
    private readonly group: CachedHuntGroup,
  ) {}

  async run(call: Call): Promise<RingOutcome> {
    const { members, busySkipped, unreachable } = await this.available();
    this.deps.log.info(
      { huntGroup: this.group.id, strategy: this.group.strategy, available: members.length },
      'hunting',
    );
    const rung =
      members.length === 0
        ? { outcome: unavailable(), allBusy: true }
        : await this.ringMembers(call, members);
    const { outcome } = rung;
    if (outcome.kind === 'answered') {
      const answeredBy = members.find((m) => m.subscriber.id === call.info().calleeSubscriberId);
      if (answeredBy) {
        const release = await this.deps.hold(answeredBy.subscriber);
        void call.ended.then(release);
      }
    }
    if (outcome.kind !== 'failed') return outcome;
    // Busy: every member was in a call (or at its limit) or declined busy, and none was unreachable.
    const allBusy = rung.allBusy && unreachable === 0 && busySkipped + members.length > 0;
    return this.noAnswer(call, outcome, allBusy);
  }

  private async available(): Promise<Availability> {
    const members: Member[] = [];
    let busySkipped = 0;
    let unreachable = 0;
    for (const id of this.deps.groups.memberOrder(this.group)) {
      const subscriber = this.deps.directory.subscriberById(id);
      // A member of another customer (moved since) never rings for this one.
      if (!subscriber?.enabled || subscriber.customerId !== this.group.customerId) continue;
      if (await this.deps.busy(subscriber)) {
        busySkipped++;
        continue;
      }
      const targets = this.deps.devices(subscriber).map((t) => ({ ...t, subscriberId: id }));
      if (targets.length > 0) members.push({ subscriber, targets });
      else unreachable++;
    }
    return { members, busySkipped, unreachable };
  }

  private stage(targets: RingTarget[], member?: CachedSubscriber): CallStage {
    return {
      targets,
      from: this.deps.from,
      to: this.deps.to,
      calleeSubscriberId: member?.id,
      calleeCustomerId: this.group.customerId,
      // The CDR's routed callee is the group whoever answers; the member is its callee subscriber.
      calleeRouted: aorOf(this.group),
      ringTimeoutS: this.group.ringTimeoutS,
    };
  }

  /** Rings the members; `allBusy`: every ring failed with busy statuses only. */
  private async ringMembers(
    call: Call,
    members: Member[],
  ): Promise<{ outcome: RingOutcome; allBusy: boolean }> {
    if (this.group.strategy === 'parallel') {
      const outcome = await call.ring(this.stage(members.flatMap((m) => m.targets)));
      return { outcome, allBusy: busyOnly(outcome) };
    }
    let last: RingOutcome = unavailable();
    let allBusy = true;
    for (const member of members) {
      last = await call.ring(this.stage(member.targets, member.subscriber));
      if (last.kind !== 'failed') return { outcome: last, allBusy: false };
      allBusy &&= busyOnly(last);
    }
    return { outcome: last, allBusy };
  }

  private async noAnswer(call: Call, outcome: StageFailure, allBusy: boolean): Promise<RingOutcome> {
    const destination = this.group.noAnswer;
    if (!destination) return outcome;
    const subscriber = this.destination(destination);
    if (!subscriber) {
      this.deps.log.warn(
        { huntGroup: this.group.id, destination: destination.destination },
        'hunt group no-answer destination is not a subscriber of ours',
      );
      return outcome;
    }
    call.retarget({ calleeRouted: `sip:${subscriber.username}@${subscriber.domain}` });
    // `voicemail`: the named subscriber's box takes the call, without ringing its phones first.
    if (destination.kind === 'voicemail')
      return this.deps.voicemailRoute?.(subscriber, allBusy)(call) ?? outcome;
    return this.deps.destinationRoute(subscriber)(call);
  }

  /** A `uri` names a subscriber (bare username: the group's domain); a `number` is one of our numbers. */
  private destination(destination: HuntDestination): CachedSubscriber | undefined {
    const { directory, numbering } = this.deps;
    const value = destination.destination.trim();
    let found: CachedSubscriber | undefined;
    if (destination.kind === 'uri' || destination.kind === 'voicemail') {
      const match = /^(?:sips?:)?([^@;>]+)(?:@([^;>:]+))?/i.exec(value.replace(/^<|>$/g, ''));
      const host = match?.[2] ?? this.group.domain;
      found =
        match?.[1] && directory.servesDomain(host) ? directory.findSubscriber(match[1], host) : undefined;
    } else if (numbering) {
      try {
        const normalised = numbering.normalise(this.group.domain, value);
        const mapping = normalised.kind === 'e164' ? numbering.lookupNumber(normalised.e164) : null;
        found = mapping ? directory.findSubscriber(mapping.username, mapping.domain) : undefined;
      } catch {
        found = undefined;
      }
    }
    return found?.enabled ? found : undefined;
  }
}

export function aorOf(group: Pick<CachedHuntGroup, 'username' | 'domain'>): string {
  return `sip:${group.username}@${group.domain}`;
}
