import type { CachedSubscriber, Directory } from '../directory/directory.ts';
import type { CountedParty } from './active-calls.ts';

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

/** `party` with its subscriber's and its customer's limits, as `ActiveCalls.admit` counts it. */
export function countedParty(party: Party): CountedParty {
  return {
    subscriberId: party.id,
    customerId: party.customerId,
    subscriberMax: party.maxConcurrentCalls,
    customerMax: party.customer.maxConcurrentCalls,
  };
}
