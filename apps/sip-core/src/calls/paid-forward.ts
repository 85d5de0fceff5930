import type { CachedSubscriber } from '../directory/directory.ts';
import type { PeerLegFactory } from '../sbc/towards-peer.ts';
import type { CallCredit } from './credit.ts';
import type { Refusal } from './forwarding.ts';
import type { OriginalCaller } from './plan.ts';
import { type PstnDeps, type PstnStage, pstnLeg } from './pstn.ts';

export interface PaidForwardDeps extends PstnDeps {
  /** The month's credit limit of postpaid customers (wholesale/); unset: none. */
  creditLimit?: { overCreditLimit(customerId: string): unknown } | undefined;
  /** Prepaid credit and spend limits (calls/credit.ts); unset: not checked. */
  credit?: CallCredit | undefined;
}

/**
 * A call forward that sends a call to the phone network (docs/billing.md, "Forwarded calls"): the
 * forwarding subscriber's customer pays for that leg, so it passes the same checks as the subscriber's
 * own call to the number: the postpaid credit limit (402), a spend-limit block (403), and a prepaid
 * customer's authorisation, whose reserved credit cuts the answered leg when it runs out (402 when
 * the balance pays for nothing). The checks come after LCR, so a number without a route reserves
 * nothing. The stage names the payer for the CDR, which the rater prices as its outbound call.
 * `peerLeg`: the session border controller's part of each gateway leg, as on any call to a peer
 * (admission limits, header rules, topology hiding; docs/sbc.md).
 */
export async function paidForwardLeg(
  deps: PaidForwardDeps,
  callId: string,
  subscriber: CachedSubscriber,
  e164: string,
  original?: OriginalCaller,
  peerLeg?: PeerLegFactory,
): Promise<PstnStage | Refusal> {
  const routed = await pstnLeg(deps, subscriber, e164, original, peerLeg);
  if ('status' in routed) return routed;
  // The call was to the forwarding subscriber: its customer sees the CDR (and, paying, its price).
  const leg = { ...routed, calleeCustomerId: subscriber.customerId };
  const customerId = subscriber.customerId;
  if (deps.creditLimit?.overCreditLimit(customerId)) return { status: 402, reason: 'Payment Required' };
  const payer = { subscriberId: subscriber.id, customerId };
  if (!deps.credit) return { ...leg, payer };
  const decision = await deps.credit.authorise({
    callId,
    customerId,
    subscriberId: subscriber.id,
    number: e164.startsWith('+') ? e164.slice(1) : e164,
    at: new Date(),
  });
  if (decision.kind === 'refused') return { status: decision.status, reason: decision.reason };
  if (decision.kind === 'unlimited') return { ...leg, payer };
  return { ...leg, payer: { ...payer, credit: decision } };
}
