import type { FastifyRequest } from 'fastify';
import { type AuditRecord, type Tx, writeAuditMany } from './audit.ts';
import type { ModelOf } from './delegate.ts';
import { conflict } from './errors.ts';
import { type LockSpec, lockOnDelete, SUBSCRIBER_LOCK, USER_LOCK } from './locks.ts';
import type { Where } from './tenancy.ts';
import type { Principal } from './types.ts';

/**
 * What hangs off a record and would go with it. Deleting a record that still has dependants is refused (409,
 * with their counts) unless the request says `?force=true`; a forced delete removes them explicitly, leaves
 * first, and writes one audit entry per row, so the log shows everything that went and not only the parent.
 */
export interface Dependant {
  /** REST resource name, used in the 409 counts and as the audit entity. */
  entity: string;
  /** The Prisma model delegate: `(db) => db.subscriber`. */
  model: ModelOf;
  /** The dependant rows of the record `id`. */
  where(id: string): Where;
  /** Loaded with each row for its audit entry (e.g. a call forward's destinations). */
  include?: object;
  /** Rows that keep existing but lose their reference to the record: this field is set to null. */
  detach?: string;
  /** A removed row locked by a higher role than the deleting one stops the delete (locks.ts). */
  lock?: LockSpec;
}

/** Counts of dependants with at least one row, by entity; rows of one entity from several lists add up. */
export async function countDependants(
  db: Tx,
  dependants: readonly Dependant[],
  id: string,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const d of dependants) {
    const n = await d.model(db).count({ where: d.where(id) });
    if (n > 0) counts[d.entity] = (counts[d.entity] ?? 0) + n;
  }
  return counts;
}

/**
 * Refuses (409 problem+json with `dependants`) when the record has dependants and `force` is not set;
 * with `force`, removes or detaches them in order and audits each row. Runs in the delete's transaction.
 */
export async function clearDependants(
  db: Tx,
  request: FastifyRequest,
  dependants: readonly Dependant[],
  id: string,
  label: string,
  force: boolean,
  principal: Principal,
): Promise<void> {
  const counts = await countDependants(db, dependants, id);
  if (Object.keys(counts).length === 0) return;
  if (!force) {
    const listed = Object.entries(counts)
      .map(([entity, n]) => `${n} ${entity}`)
      .join(', ');
    throw conflict(
      `${label} still has dependants (${listed}); repeat with ?force=true to delete them too`,
      [],
      {
        dependants: counts,
      },
    );
  }
  for (const d of dependants) {
    const delegate = d.model(db);
    const rows = await delegate.findMany({
      where: d.where(id),
      ...(d.include ? { include: d.include } : {}),
    });
    if (rows.length === 0) continue;
    // Deleting the parent must not remove what a higher role locked, any more than deleting it directly.
    if (d.lock !== undefined && d.detach === undefined) {
      for (const row of rows) lockOnDelete(d.lock, principal, row);
    }
    const rowIds = rows.map((r) => String(r.id));
    const records: AuditRecord[] = [];
    if (d.detach !== undefined) {
      await delegate.updateMany({ where: { id: { in: rowIds } }, data: { [d.detach]: null } });
      for (const row of rows) {
        records.push({
          action: 'update',
          entity: d.entity,
          entityId: String(row.id),
          before: row,
          after: { ...row, [d.detach]: null },
        });
      }
    } else {
      await delegate.deleteMany({ where: { id: { in: rowIds } } });
      for (const row of rows)
        records.push({ action: 'delete', entity: d.entity, entityId: String(row.id), before: row });
    }
    await writeAuditMany(db, request, records);
  }
}

/** Subscribers matching `of(id)` and what hangs off each: registrations, call forwards, numbers. */
export function subscriberTree(of: (id: string) => Where): Dependant[] {
  const own = (id: string) => ({ subscriber: of(id) });
  return [
    { entity: 'registrations', model: (db) => db.registration, where: own },
    { entity: 'call-forwards', model: (db) => db.callForward, where: own, include: { destinations: true } },
    { entity: 'numbers', model: (db) => db.phoneNumber, where: own },
    { entity: 'subscribers', model: (db) => db.subscriber, where: of, lock: SUBSCRIBER_LOCK },
  ];
}

/**
 * Hunt groups matching `of(id)`, with their members (a domain's, a customer's), and the auto-attendants
 * matching it with their menus (the PBX addresses of a domain or customer that are not subscribers).
 */
export function huntGroupTree(of: (id: string) => Where): Dependant[] {
  return [
    { entity: 'auto-attendants', model: (db) => db.autoAttendant, where: of, include: { options: true } },
    { entity: 'hunt-groups', model: (db) => db.huntGroup, where: of, include: { members: true } },
  ];
}

/** Login users matching `of(id)` with their sessions and API keys. */
export function userTree(of: (id: string) => Where): Dependant[] {
  const own = (id: string) => ({ user: of(id) });
  return [
    { entity: 'sessions', model: (db) => db.session, where: own },
    { entity: 'api-keys', model: (db) => db.apiKey, where: own },
    { entity: 'users', model: (db) => db.user, where: of, lock: USER_LOCK },
  ];
}
