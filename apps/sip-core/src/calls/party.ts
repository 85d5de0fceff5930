import type { CachedSubscriber, Directory } from '../directory/directory.ts';
import type { ActiveCalls, Admission } from './active-calls.ts';

/** A subscriber as the concurrency limits and the duration cap see it. */
export type Party = Pick<CachedSubscriber, 'id' | 'customerId' | 'maxConcurrentCalls' | 'customer'>;

/**
 * The limits of `subscriber` as the directory holds them now: the directory follows the change feed
 * (subscribers and customers), so a call reads no table for them. The plan's copy is the fallback for
 * a subscriber the directory dropped a moment ago.
 */
export function partyOf(directory: Pick<Directory, 'subscriberById'>, subscriber: CachedSubscriber): Party {
  return directory.subscriberById(subscriber.id) ?? subscriber;
}

/**
 * Whether one more call for `party` fits its subscriber's and its customer's limits; `callId`: a call
 * already counted for some parties (a forwarded call reaching another subscriber).
 */
export function admitParty(calls: ActiveCalls, party: Party, callId?: string): Admission {
  return calls.admit(
    party.id,
    party.customerId,
    { subscriberMax: party.maxConcurrentCalls, customerMax: party.customer.maxConcurrentCalls },
    callId,
  );
}
