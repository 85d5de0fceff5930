import type { RecordingMode } from '@switchboard/db';
import type { CachedSubscriber, Directory } from '../directory/directory.ts';

/** A customer that records the call, through one of its subscribers on it. */
export interface RecordingOwner {
  customerId: string;
  subscriberId: string;
  announcement: boolean;
  /** `always`: from the answer on; `on_demand`: while its subscriber has toggled recording on by DTMF. */
  mode: 'always' | 'on_demand';
  /** The index of its subscriber's party in the list given to recordingOwners (0: caller, 1: callee). */
  party: number;
}

/** The subscriber's own recording mode, else its customer's (docs/pbx.md, "Call recording"). */
export function recordingModeOf(subscriber: CachedSubscriber): RecordingMode {
  return subscriber.recordingMode ?? subscriber.customer.recordingMode ?? 'off';
}

/**
 * The customers whose settings record this call: each party that is one of our subscribers with mode
 * `always` or `on_demand`, once per customer (a call between two phones of one customer is one recording;
 * `always` wins over `on_demand` there). Read from the directory in memory: no table is read per call.
 */
export function recordingOwners(
  directory: Pick<Directory, 'subscriberById'>,
  subscriberIds: Array<string | undefined>,
): RecordingOwner[] {
  const owners = new Map<string, RecordingOwner>();
  for (const [party, id] of subscriberIds.entries()) {
    const subscriber = id ? directory.subscriberById(id) : undefined;
    if (!subscriber) continue;
    const mode = recordingModeOf(subscriber);
    if (mode === 'off') continue;
    const known = owners.get(subscriber.customerId);
    if (known && (known.mode === 'always' || mode === 'on_demand')) continue;
    owners.set(subscriber.customerId, {
      customerId: subscriber.customerId,
      subscriberId: subscriber.id,
      announcement: subscriber.customer.recordingAnnouncement === true,
      mode,
      party,
    });
  }
  return [...owners.values()];
}
