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
  /** A `voicemail` no-answer destination: the subscriber's box takes the call; unset: not served. */
  voicemailRoute?(subscriber: CachedSubscriber): (call: Call) => Promise<RingOutcome>;
  log: Logger;
}

interface Member {
  subscriber: CachedSubscriber;
  targets: RingTarget[];
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
    const members = await this.available();
    this.deps.log.info(
      { huntGroup: this.group.id, strategy: this.group.strategy, available: members.length },
      'hunting',
    );
    const outcome = members.length === 0 ? unavailable() : await this.ringMembers(call, members);
    if (outcome.kind === 'answered') {
      const answeredBy = members.find((m) => m.subscriber.id === call.info().calleeSubscriberId);
      if (answeredBy) {
        const release = await this.deps.hold(answeredBy.subscriber);
        void call.ended.then(release);
      }
    }
    if (outcome.kind !== 'failed') return outcome;
    return this.noAnswer(call, outcome);
  }

  private async available(): Promise<Member[]> {
    const members: Member[] = [];
    for (const id of this.deps.groups.memberOrder(this.group)) {
      const subscriber = this.deps.directory.subscriberById(id);
      // A member of another customer (moved since) never rings for this one.
      if (!subscriber?.enabled || subscriber.customerId !== this.group.customerId) continue;
      if (await this.deps.busy(subscriber)) continue;
      const targets = this.deps.devices(subscriber).map((t) => ({ ...t, subscriberId: id }));
      if (targets.length > 0) members.push({ subscriber, targets });
    }
    return members;
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

  private async ringMembers(call: Call, members: Member[]): Promise<RingOutcome> {
    if (this.group.strategy === 'parallel') return call.ring(this.stage(members.flatMap((m) => m.targets)));
    let last: RingOutcome = unavailable();
    for (const member of members) {
      last = await call.ring(this.stage(member.targets, member.subscriber));
      if (last.kind !== 'failed') return last;
    }
    return last;
  }

  private async noAnswer(call: Call, outcome: StageFailure): Promise<RingOutcome> {
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
    if (destination.kind === 'voicemail') return this.deps.voicemailRoute?.(subscriber)(call) ?? outcome;
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
