import { forbidden } from './errors.ts';
import type { Principal, Role } from './types.ts';

/**
 * A lock belongs to the role that set it. A subscriber or customer status other than `active`, or a disabled
 * login, remembers who set it (`statusSetBy`, `disabledBy`); a lower role may then neither change it nor
 * delete the record (which, created again, would be unlocked). The operator outranks resellers, resellers
 * outrank customers. A lock set before this was recorded (NULL) counts as the reseller's.
 */
export interface LockSpec {
  /** The body and column field holding the state, e.g. `status` or `enabled`. */
  field: string;
  /** The unlocked value: `active`, `true`. */
  open: unknown;
  /** The column recording the role that set a locked value. */
  setBy: string;
  /**
   * Fields a lower role may not change while the record is locked by a higher one: renaming a locked
   * subscriber would free its name for a new, active subscriber.
   */
  frozen?: readonly string[];
}

/** Account status of customers and subscribers: `locked` and `terminated` belong to whoever set them. */
export const STATUS_LOCK: LockSpec = { field: 'status', open: 'active', setBy: 'statusSetBy' };
/** A subscriber also keeps its name while locked: renamed, its SIP identity could be created again. */
export const SUBSCRIBER_LOCK: LockSpec = { ...STATUS_LOCK, frozen: ['username'] };

/** A login: disabled belongs to whoever disabled it. */
export const USER_LOCK: LockSpec = { field: 'enabled', open: true, setBy: 'disabledBy' };

const RANK: Record<Role, number> = { operator: 0, reseller: 1, customer: 2 };

/** A field named by a lock spec, of a request body or a row of whichever model the spec is for. */
const fieldOf = (record: object, field: string): unknown => Reflect.get(record, field);

function ownerOf(lock: LockSpec, row: object): Role | null {
  if (fieldOf(row, lock.field) === lock.open) return null;
  return (fieldOf(row, lock.setBy) as Role | null) ?? 'reseller';
}

function outranked(principal: Principal, owner: Role | null): owner is Role {
  return owner !== null && RANK[owner] < RANK[principal.role];
}

/** The owner column to store with a create body. */
export function lockOnCreate(lock: LockSpec, principal: Principal, body: object) {
  const value = fieldOf(body, lock.field);
  return value === undefined || value === lock.open ? {} : { [lock.setBy]: principal.role };
}

/**
 * On update: 403 naming the field when the principal would change a lock a higher role set; otherwise the
 * owner column to store with the change (none when the value stays as it is).
 */
export function lockOnUpdate(lock: LockSpec, principal: Principal, body: object, existing: object): object {
  const owner = ownerOf(lock, existing);
  if (outranked(principal, owner)) {
    const renamed = (lock.frozen ?? []).filter(
      (f) => fieldOf(body, f) !== undefined && fieldOf(body, f) !== fieldOf(existing, f),
    );
    if (renamed.length > 0) {
      throw forbidden(`Locked by the ${owner}; ${renamed.join(', ')} cannot change meanwhile`, [
        ...renamed.map((f) => ({ field: `/body/${f}`, message: `locked by the ${owner}` })),
      ]);
    }
  }
  const value = fieldOf(body, lock.field);
  if (value === undefined || value === fieldOf(existing, lock.field)) return {};
  if (outranked(principal, owner)) {
    throw forbidden(`Set by the ${owner}; only the ${owner} may change it`, [
      { field: `/body/${lock.field}`, message: `set by the ${owner}` },
    ]);
  }
  return { [lock.setBy]: value === lock.open ? null : principal.role };
}

/** On delete: 403 when a higher role locked the record. */
export function lockOnDelete(lock: LockSpec, principal: Principal, existing: object): void {
  const owner = ownerOf(lock, existing);
  if (outranked(principal, owner)) {
    throw forbidden(`Locked by the ${owner}; only the ${owner} may delete it`, [
      { field: '/params/id', message: `${lock.field} set by the ${owner}` },
    ]);
  }
}
