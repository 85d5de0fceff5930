import type { Tx } from '../audit.ts';
import { requireVisible } from '../crud.ts';
import { badRequest, conflict } from '../errors.ts';
import type { ListSpec } from '../list.ts';
import { scopes } from '../tenancy.ts';
import type { Principal } from '../types.ts';

/**
 * What answers at `user@domain`: a subscriber, a hunt group or an auto-attendant. Calls look them up in
 * that order, so two of them sharing an address would hide the later one; each create refuses an address
 * another kind holds (409 naming `username`).
 */
export type AddressOwner = 'subscriber' | 'huntGroup' | 'autoAttendant';

const TAKEN: Record<AddressOwner, { title: string; message: string }> = {
  subscriber: { title: 'A subscriber of the domain has this user name', message: 'taken by a subscriber' },
  huntGroup: { title: 'A hunt group of the domain has this user name', message: 'taken by a hunt group' },
  autoAttendant: {
    title: 'An auto-attendant of the domain has this user name',
    message: 'taken by an auto-attendant',
  },
};

/** Throws 409 when a kind other than `kind` already answers at `username` in the domain. */
export async function requireFreeAddress(
  tx: Tx,
  kind: AddressOwner,
  domainId: string,
  username: string,
): Promise<void> {
  const where = { where: { domainId, username } };
  const counts: Record<AddressOwner, () => Promise<number>> = {
    subscriber: () => tx.subscriber.count(where),
    huntGroup: () => tx.huntGroup.count(where),
    autoAttendant: () => tx.autoAttendant.count(where),
  };
  for (const other of ['subscriber', 'huntGroup', 'autoAttendant'] as const) {
    if (other === kind || (await counts[other]()) === 0) continue;
    throw conflict(TAKEN[other].title, [{ field: '/body/username', message: TAKEN[other].message }]);
  }
}

/**
 * The customer a new hunt group or attendant belongs to (a customer's own, else `customerId` from the
 * body), checked visible to the caller, and the domain checked open to it for new addresses.
 */
export async function ownerOfNewAddress(
  tx: Tx,
  principal: Principal,
  body: { customerId?: string | null | undefined; domainId: string },
): Promise<string> {
  const customerId = principal.role === 'customer' ? principal.customerId : body.customerId;
  if (customerId === undefined || customerId === null)
    throw badRequest('customerId is required', [{ field: '/body/customerId', message: 'required' }]);
  await requireVisible(
    tx,
    (db) => db.customer,
    scopes.customer(principal),
    customerId,
    'Customer',
    '/body/customerId',
  );
  await requireVisible(
    tx,
    (db) => db.domain,
    scopes.domainForNewSubscribers(principal),
    body.domainId,
    'Domain',
    '/body/domainId',
  );
  return customerId;
}

/** The list options hunt groups and attendants share: sort and search by name and user name. */
export const addressListOptions: ListSpec = {
  sortable: ['username', 'name', 'createdAt'],
  defaultSort: 'username',
  filters: {
    customerId: { type: 'string' },
    domainId: { type: 'string' },
    q: {
      type: 'string',
      op: 'contains',
      anyOf: ['username', 'name'],
      description: 'Search name and user name',
    },
    enabled: { type: 'boolean' },
  },
};
