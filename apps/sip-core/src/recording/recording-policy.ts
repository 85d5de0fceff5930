import type { RecordingMode } from '@switchboard/db';
import type { CachedSubscriber, Directory } from '../directory/directory.ts';

/** A customer that records the call, through one of its subscribers on it. */
export interface RecordingOwner {
  customerId: string;
  subscriberId: string;
  announcement: boolean;
}

/** The subscriber's own recording mode, else its customer's (docs/pbx.md, "Call recording"). */
export function recordingModeOf(subscriber: CachedSubscriber): RecordingMode {
  return subscriber.recordingMode ?? subscriber.customer.recordingMode ?? 'off';
}

/**
 * The customers whose settings record this call: each party that is one of our subscribers with mode
 * `always`, once per customer (a call between two phones of one customer is one recording). Read from the
 * directory in memory: no table is read per call.
 */
export function recordingOwners(
  directory: Pick<Directory, 'subscriberById'>,
  subscriberIds: Array<string | undefined>,
): RecordingOwner[] {
  const owners = new Map<string, RecordingOwner>();
  for (const id of subscriberIds) {
    const subscriber = id ? directory.subscriberById(id) : undefined;
    if (!subscriber || recordingModeOf(subscriber) !== 'always' || owners.has(subscriber.customerId))
      continue;
    owners.set(subscriber.customerId, {
      customerId: subscriber.customerId,
      subscriberId: subscriber.id,
      announcement: subscriber.customer.recordingAnnouncement === true,
    });
  }
  return [...owners.values()];
}
