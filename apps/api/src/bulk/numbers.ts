import type { PrismaClient } from '@switchboard/db';
import type { FastifyRequest } from 'fastify';
import { type Tx, writeAudit } from '../audit.ts';
import type { ModelDelegate } from '../delegate.ts';
import { e164Of } from '../routes/numbers.ts';
import { scopes, within } from '../tenancy.ts';
import type { Principal } from '../types.ts';
import {
  booleanCell,
  type CsvRow,
  optional,
  parseCsv,
  type RowErrorShape,
  RowProblem,
  required,
  toCsv,
} from './csv.ts';
import type { PlannedRow } from './report.ts';
import { rowFailure } from './subscribers.ts';

/**
 * Numbers (DIDs) as CSV, keyed by the E.164 number its parts make. `subscriber` names the owner as
 * user@domain. An empty isPrimary keeps the current flag; a new number is primary when its subscriber has
 * none yet. Setting a number primary takes the flag from the subscriber's other numbers, as the API does.
 */

export const NUMBER_COLUMNS = [
  'countryCode',
  'areaCode',
  'subscriberNumber',
  'subscriber',
  'isPrimary',
] as const;
const REQUIRED = ['countryCode', 'subscriberNumber', 'subscriber'] as const;

type Db = Tx | PrismaClient;
type Row = Record<string, unknown>;

export async function exportNumbers(db: Db, principal: Principal): Promise<string> {
  const rows = await db.phoneNumber.findMany({
    // Only subscribers' numbers: a hunt group's are managed on the numbers page.
    where: { AND: [scopes.viaSubscriber(principal), { subscriberId: { not: null } }] },
    include: { subscriber: { select: { username: true, domain: { select: { name: true } } } } },
    orderBy: { e164: 'asc' },
  });
  return toCsv(
    NUMBER_COLUMNS,
    rows.map((n) => ({
      ...n,
      subscriber: n.subscriber ? `${n.subscriber.username}@${n.subscriber.domain.name}` : '',
    })),
  );
}

interface Planned extends PlannedRow {
  data?: Row;
  existing?: Row;
}

interface Context {
  subscribers: Map<string, { id: string; hasPrimary: boolean }>;
  existing: Map<string, Row>;
  taken: Set<string>;
}

const DIGITS = (column: string, min: number, max: number, value: string) => {
  if (!new RegExp(`^[0-9]{${min},${max}}$`).test(value)) throw new RowProblem(column, `${min}-${max} digits`);
  return value;
};

function partsOf(values: Record<string, string>) {
  const parts = {
    countryCode: DIGITS('countryCode', 1, 3, required(values, 'countryCode')),
    areaCode: DIGITS('areaCode', 0, 6, optional(values, 'areaCode') ?? ''),
    subscriberNumber: DIGITS('subscriberNumber', 1, 14, required(values, 'subscriberNumber')),
  };
  return { ...parts, e164: e164Of(parts) };
}

async function loadContext(db: Db, principal: Principal, rows: CsvRow[]): Promise<Context> {
  const users = new Set<string>();
  const e164s: string[] = [];
  for (const r of rows) {
    users.add((r.values.subscriber ?? '').toLowerCase());
    const digits = `${r.values.countryCode ?? ''}${r.values.areaCode ?? ''}${r.values.subscriberNumber ?? ''}`;
    e164s.push(`+${digits}`);
  }
  const usernames = [...users].map((u) => u.split('@')[0] ?? '');
  const [subs, visible, all] = await Promise.all([
    db.subscriber.findMany({
      where: within(scopes.subscriber(principal), { username: { in: usernames } }),
      select: {
        id: true,
        username: true,
        domain: { select: { name: true } },
        numbers: { where: { isPrimary: true }, select: { id: true } },
      },
    }),
    db.phoneNumber.findMany({ where: within(scopes.viaSubscriber(principal), { e164: { in: e164s } }) }),
    db.phoneNumber.findMany({ where: { e164: { in: e164s } }, select: { e164: true } }),
  ]);
  return {
    subscribers: new Map(
      subs.map((s) => [
        `${s.username}@${s.domain.name}`.toLowerCase(),
        { id: s.id, hasPrimary: s.numbers.length > 0 },
      ]),
    ),
    existing: new Map(visible.map((n) => [n.e164, n as Row])),
    taken: new Set(all.map((n) => n.e164)),
  };
}

function planRow(ctx: Context, csv: CsvRow, seen: Set<string>, primaries: Set<string>): Planned {
  const { e164, ...parts } = partsOf(csv.values);
  if (seen.has(e164)) throw new RowProblem('subscriberNumber', 'appears twice in this file');
  seen.add(e164);
  const existing = ctx.existing.get(e164);
  if (existing === undefined && ctx.taken.has(e164))
    throw new RowProblem('subscriberNumber', 'already in use');
  const owner = ctx.subscribers.get(required(csv.values, 'subscriber').toLowerCase());
  if (owner === undefined) throw new RowProblem('subscriber', 'no such subscriber (user@domain)');
  const given = booleanCell(csv.values, 'isPrimary');
  const isPrimary =
    given ?? (existing?.isPrimary as boolean | undefined) ?? (!owner.hasPrimary && !primaries.has(owner.id));
  if (isPrimary) {
    if (primaries.has(owner.id))
      throw new RowProblem('isPrimary', 'another row makes a number of this subscriber primary');
    primaries.add(owner.id);
  }
  const data: Row = { ...parts, subscriberId: owner.id, isPrimary };
  if (existing === undefined) {
    return { row: csv.row, key: e164, action: 'create', changes: Object.keys(data), data: { ...data, e164 } };
  }
  const changes = Object.keys(data).filter((f) => data[f] !== existing[f]);
  if (changes.length === 0) return { row: csv.row, key: e164, action: 'unchanged', changes: [] };
  return { row: csv.row, key: e164, action: 'update', changes, data, existing };
}

export async function planNumbers(db: Db, principal: Principal, text: string) {
  const rows = parseCsv(text, NUMBER_COLUMNS, REQUIRED);
  const ctx = await loadContext(db, principal, rows);
  const seen = new Set<string>();
  const primaries = new Set<string>();
  const planned: Planned[] = [];
  const errors: RowErrorShape[] = [];
  for (const csv of rows) {
    try {
      planned.push(planRow(ctx, csv, seen, primaries));
    } catch (err) {
      errors.push({ row: csv.row, ...rowFailure(err) });
      planned.push({ row: csv.row, key: '', action: 'error', changes: [] });
    }
  }
  return { planned, errors };
}

export async function applyNumbers(tx: Tx, request: FastifyRequest, planned: readonly Planned[]) {
  // The planned data is built column by column, so it is written through the untyped delegate view.
  const numbers: ModelDelegate = tx.phoneNumber;
  for (const p of planned) {
    if (p.data === undefined) continue;
    const id = p.existing === undefined ? undefined : String(p.existing.id);
    // One primary per subscriber (partial unique index): clear the others first.
    if (p.data.isPrimary === true) {
      await numbers.updateMany({
        where: { subscriberId: p.data.subscriberId, isPrimary: true, ...(id ? { id: { not: id } } : {}) },
        data: { isPrimary: false },
      });
    }
    const after =
      id === undefined
        ? await numbers.create({ data: p.data })
        : await numbers.update({ where: { id }, data: p.data });
    await writeAudit(tx, request, {
      action: 'import',
      entity: 'numbers',
      entityId: String(after.id),
      ...(p.existing === undefined ? {} : { before: p.existing }),
      after,
    });
  }
}
