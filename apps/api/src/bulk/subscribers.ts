import { type PrismaClient, sipHa1 } from '@switchboard/db';
import type { FastifyRequest } from 'fastify';
import { type Tx, writeAudit } from '../audit.ts';
import { passwordProblem, sipIdentities } from '../auth/password-policy.ts';
import type { ModelDelegate } from '../delegate.ts';
import { ApiError } from '../errors.ts';
import { lockOnCreate, lockOnUpdate, SUBSCRIBER_LOCK } from '../locks.ts';
import { PROVIDER_ROLES, scopes, within } from '../tenancy.ts';
import type { Principal } from '../types.ts';
import {
  booleanCell,
  type CsvRow,
  integerCell,
  optional,
  parseCsv,
  type RowErrorShape,
  RowProblem,
  required,
  toCsv,
} from './csv.ts';
import type { PlannedRow } from './report.ts';

/**
 * Subscribers as CSV. A row is keyed by username + domain: an existing subscriber (visible to the caller)
 * is updated, else one is created. An empty cell or a missing column keeps the current value (a new
 * subscriber gets the default), so a partial file never clears what it does not mention. A password is turned into its HA1 digests while the row is read,
 * so plain text never goes further than this module.
 */

export const SUBSCRIBER_COLUMNS = [
  'username',
  'domain',
  'customerId',
  'customer',
  'displayName',
  'status',
  'maxConcurrentCalls',
  'clir',
  'password',
] as const;
const REQUIRED = ['username', 'domain'] as const;
const USERNAME = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/]{1,64}$/;
const STATUSES = ['active', 'locked', 'terminated'];

type Db = Tx | PrismaClient;
type Row = Record<string, unknown>;

export async function exportSubscribers(db: Db, principal: Principal): Promise<string> {
  const rows = await db.subscriber.findMany({
    where: scopes.subscriber(principal),
    include: { domain: { select: { name: true } }, customer: { select: { name: true } } },
    orderBy: [{ domain: { name: 'asc' } }, { username: 'asc' }],
  });
  return toCsv(
    SUBSCRIBER_COLUMNS,
    rows.map((s) => ({ ...s, domain: s.domain.name, customer: s.customer.name, password: '' })),
  );
}

interface Planned extends PlannedRow {
  /** Data to write; undefined for unchanged and error rows. */
  data?: Row;
  existing?: Row;
}

interface Context {
  principal: Principal;
  domains: Map<string, { id: string; name: string }>;
  customers: { id: string; name: string; maxSubscribers: number | null }[];
  existing: Map<string, Row>;
  taken: Set<string>;
  newPerCustomer: Map<string, number>;
  counts: Map<string, number>;
}

const keyOf = (domainId: string, username: string) => `${domainId}\u0000${username}`;

async function loadContext(db: Db, principal: Principal, rows: CsvRow[]): Promise<Context> {
  const domainRows = await db.domain.findMany({
    where: scopes.domainForNewSubscribers(principal),
    select: { id: true, name: true },
  });
  const customers = await db.customer.findMany({
    where: scopes.customer(principal),
    select: { id: true, name: true, maxSubscribers: true },
  });
  const usernames = [...new Set(rows.map((r) => (r.values.username ?? '').toLowerCase()))];
  const domainIds = domainRows.map((d) => d.id);
  const byKey = { domainId: { in: domainIds }, username: { in: usernames } };
  // Visible ones are updated; names taken by another tenant are refused as a create would refuse them.
  const [visible, all, counts] = await Promise.all([
    db.subscriber.findMany({ where: within(scopes.subscriber(principal), byKey) }),
    db.subscriber.findMany({ where: byKey, select: { domainId: true, username: true } }),
    db.subscriber.groupBy({
      by: ['customerId'],
      where: { customerId: { in: customers.map((c) => c.id) } },
      _count: { _all: true },
    }),
  ]);
  return {
    principal,
    domains: new Map(domainRows.map((d) => [d.name.toLowerCase(), d])),
    customers,
    existing: new Map(visible.map((s) => [keyOf(s.domainId, s.username), s as Row])),
    taken: new Set(all.map((s) => keyOf(s.domainId, s.username))),
    newPerCustomer: new Map(),
    counts: new Map(counts.map((c) => [c.customerId, c._count._all])),
  };
}

function customerOf(ctx: Context, values: Record<string, string>, existing?: Row): string {
  const named = optional(values, 'customerId') ?? optional(values, 'customer');
  if (named === undefined && existing !== undefined) return String(existing.customerId);
  if (ctx.principal.role === 'customer') {
    const given = optional(values, 'customerId');
    if (given !== undefined && given !== ctx.principal.customerId)
      throw new RowProblem('customerId', 'not found');
    return ctx.principal.customerId!;
  }
  const id = optional(values, 'customerId');
  if (id !== undefined) {
    if (!ctx.customers.some((c) => c.id === id)) throw new RowProblem('customerId', 'not found');
    return id;
  }
  const name = required(values, 'customer');
  const matches = ctx.customers.filter((c) => c.name === name);
  if (matches.length === 0) throw new RowProblem('customer', 'no customer of that name');
  if (matches.length > 1)
    throw new RowProblem('customer', 'several customers have that name; give customerId');
  return matches[0]!.id;
}

/** The wanted field values of one row, given the record it updates (if any). */
function wanted(values: Record<string, string>, realm: string, username: string, existing?: Row): Row {
  const status = optional(values, 'status') ?? (existing?.status as string | undefined) ?? 'active';
  if (!STATUSES.includes(status)) throw new RowProblem('status', `expected ${STATUSES.join(', ')}`);
  const displayName =
    optional(values, 'displayName') ?? (existing?.displayName as string | null | undefined) ?? null;
  if (displayName !== null && displayName.length > 128) {
    throw new RowProblem('displayName', 'at most 128 characters');
  }
  const limit = integerCell(values, 'maxConcurrentCalls', 10_000);
  const data: Row = {
    displayName,
    status,
    maxConcurrentCalls: limit ?? (existing?.maxConcurrentCalls as number | null | undefined) ?? null,
    clir: booleanCell(values, 'clir') ?? (existing?.clir as boolean | undefined) ?? false,
  };
  const password = optional(values, 'password');
  if (password !== undefined) {
    if (password.length < 8 || password.length > 128) throw new RowProblem('password', '8 to 128 characters');
    const problem = passwordProblem(password, sipIdentities(username, realm));
    if (problem !== undefined) throw new RowProblem('password', problem);
    Object.assign(data, sipHa1(username, realm, password));
  } else if (existing === undefined) {
    throw new RowProblem('password', 'required for a new subscriber');
  }
  return data;
}

/** Fields a customer may not set: the provider's policy (see subscribers.ts). */
const PROVIDER_FIELDS = ['status', 'maxConcurrentCalls'];
const DEFAULTS: Row = { status: 'active', maxConcurrentCalls: null, clir: false, displayName: null };

function planRow(ctx: Context, csv: CsvRow, seen: Set<string>): Planned {
  const v = csv.values;
  const username = required(v, 'username').toLowerCase();
  if (!USERNAME.test(username)) throw new RowProblem('username', 'not a valid SIP user name');
  const domain = ctx.domains.get(required(v, 'domain').toLowerCase());
  if (domain === undefined) throw new RowProblem('domain', 'unknown domain');
  const key = keyOf(domain.id, username);
  const label = `${username}@${domain.name}`;
  if (seen.has(key)) throw new RowProblem('username', 'appears twice in this file');
  seen.add(key);
  const existing = ctx.existing.get(key);
  if (existing === undefined && ctx.taken.has(key)) throw new RowProblem('username', 'already in use');
  const customerId = customerOf(ctx, v, existing);
  if (existing !== undefined && existing.customerId !== customerId) {
    throw new RowProblem('customerId', 'an import does not move a subscriber to another customer');
  }
  const data = wanted(v, domain.name, username, existing);
  const base = existing ?? DEFAULTS;
  const changes = Object.keys(data).filter((f) => data[f] !== base[f]);
  const shown = [...new Set(changes.map((c) => (c.startsWith('ha1') ? 'password' : c)))];
  if (!PROVIDER_ROLES.includes(ctx.principal.role)) {
    const denied = shown.find((c) => PROVIDER_FIELDS.includes(c));
    if (denied !== undefined) throw new RowProblem(denied, `a ${ctx.principal.role} may not set this field`);
  }
  if (existing === undefined) {
    const customer = ctx.customers.find((c) => c.id === customerId)!;
    const added = (ctx.newPerCustomer.get(customerId) ?? 0) + 1;
    ctx.newPerCustomer.set(customerId, added);
    const max = customer.maxSubscribers;
    if (max !== null && (ctx.counts.get(customerId) ?? 0) + added > max) {
      throw new RowProblem('customer', `the customer's limit of ${max} subscribers is reached`);
    }
    const lock = lockOnCreate(SUBSCRIBER_LOCK, ctx.principal, data);
    return {
      row: csv.row,
      key: label,
      action: 'create',
      changes: shown,
      data: { ...data, ...lock, username, domainId: domain.id, customerId },
    };
  }
  if (changes.length === 0) return { row: csv.row, key: label, action: 'unchanged', changes: [] };
  const lock = lockOnUpdate(SUBSCRIBER_LOCK, ctx.principal, data, existing);
  return { row: csv.row, key: label, action: 'update', changes: shown, data: { ...data, ...lock }, existing };
}

export async function planSubscribers(db: Db, principal: Principal, text: string) {
  const rows = parseCsv(text, SUBSCRIBER_COLUMNS, REQUIRED);
  const ctx = await loadContext(db, principal, rows);
  const seen = new Set<string>();
  const planned: Planned[] = [];
  const errors: RowErrorShape[] = [];
  for (const csv of rows) {
    try {
      planned.push(planRow(ctx, csv, seen));
    } catch (err) {
      const failure = rowFailure(err);
      errors.push({ row: csv.row, ...failure });
      planned.push({ row: csv.row, key: csv.values.username ?? '', action: 'error', changes: [] });
    }
  }
  return { planned, errors };
}

/** A row problem, or an ApiError raised by a shared check (locks), as a named row error. */
export function rowFailure(err: unknown): { column: string; message: string } {
  if (err instanceof RowProblem) return { column: err.column, message: err.message };
  if (err instanceof ApiError) {
    const field = err.errors?.[0]?.field.replace(/^\/body\//, '') ?? '';
    return { column: field, message: err.errors?.[0]?.message ?? err.message };
  }
  throw err;
}

export async function applySubscribers(tx: Tx, request: FastifyRequest, planned: readonly Planned[]) {
  // The planned data is built column by column, so it is written through the untyped delegate view.
  const subscribers: ModelDelegate = tx.subscriber;
  for (const p of planned) {
    if (p.data === undefined) continue;
    if (p.action === 'create') {
      const created = await subscribers.create({ data: p.data });
      await writeAudit(tx, request, {
        action: 'import',
        entity: 'subscribers',
        entityId: String(created.id),
        after: created,
      });
    } else if (p.action === 'update' && p.existing !== undefined) {
      const id = String(p.existing.id);
      const updated = await subscribers.update({ where: { id }, data: p.data });
      await writeAudit(tx, request, {
        action: 'import',
        entity: 'subscribers',
        entityId: id,
        before: p.existing,
        after: updated,
      });
    }
  }
}
