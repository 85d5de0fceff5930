import type { CdrEnd } from '../../cdr/cdr-writer.ts';
import type { CachedSubscriber } from '../../directory/directory.ts';
import type { GreetingKind } from '../../voicemail/store.ts';
import { ENDPOINT_PROFILE, greetingKindOf } from '../../voicemail/voicemail.ts';
import type { Call } from '../call.ts';
import type { RingOutcome } from '../call-types.ts';
import { type InvitePlan, required } from '../plan.ts';
import type { InviteDeps } from './deps.ts';

const notServed: RingOutcome = {
  kind: 'failed',
  status: 404,
  reason: 'Not Found',
  timedOut: false,
  statuses: [404],
};

/**
 * A call forward or a hunt group sends the call to `owner`'s voicemail: the media endpoint answers it
 * with the greeting (the busy one when CFB sent it or a hunt group's members were all busy, else
 * the unavailable one) and records a message
 * (voicemail/deposit.ts). A box that is off or missing fails
 * like an unknown destination, so the route goes on (the next destination, or the caller's 404).
 */
export async function voicemailDeposit(
  deps: Pick<InviteDeps, 'voicemail' | 'log'>,
  plan: InvitePlan,
  call: Call,
  owner: CachedSubscriber,
  via: {
    forwardedFrom: string;
    forwardType: CdrEnd['forwardType'];
    /** Which greeting plays when the forward type does not say (a hunt group whose members were all busy). */
    greeting?: GreetingKind | undefined;
  },
): Promise<RingOutcome> {
  const voicemail = deps.voicemail;
  const box = voicemail ? await voicemail.boxOf(owner.id) : undefined;
  if (!voicemail || !box) {
    deps.log.info({ mailbox: owner.id }, 'voicemail destination without an enabled box');
    return notServed;
  }
  const presented = required(plan.presented, 'the presentation');
  // The owner sees the caller as its phone would have: withheld under CLIR.
  const caller = presented.withheld ? 'anonymous' : presented.callerRouted;
  const aor = `sip:${owner.username}@${owner.domain}`;
  return call.answerLocally(
    {
      from: presented.from,
      to: `<${aor}>`,
      calleeSubscriberId: owner.id,
      calleeCustomerId: owner.customerId,
      calleeRouted: aor,
      forwardedFrom: via.forwardedFrom,
      forwardType: via.forwardType,
    },
    voicemail.depositApp(owner, box, caller, via.greeting ?? greetingKindOf(via.forwardType)),
    ENDPOINT_PROFILE,
  );
}
