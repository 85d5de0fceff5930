import { type TObject, type TSchema, Type } from 'typebox';
import { badRequest } from './errors.ts';

/**
 * One way to list every resource: `?page=1&perPage=50` (page numbers, with the total count in the envelope),
 * `?sort=name,-createdAt` (minus for descending, only declared fields), and equality/range filters declared
 * per resource. Each list route describes itself with a `ListSpec`; `listQuerySchema` gives its query-string
 * schema (validated by Fastify, shown in OpenAPI) and `listArgs` turns a validated query into Prisma
 * `where/orderBy/skip/take`.
 */

export const DEFAULT_PER_PAGE = 50;
export const MAX_PER_PAGE = 500;

export type FilterType = 'string' | 'integer' | 'boolean' | 'datetime' | 'enum';
export type FilterOp = 'eq' | 'contains' | 'startsWith' | 'gte' | 'lte' | 'lt';

export interface FilterSpec {
  type: FilterType;
  /** Database field, dotted for a relation (`subscriber.customerId`); defaults to the query parameter name. */
  field?: string;
  op?: FilterOp;
  values?: readonly string[];
  description?: string;
  /** Search: the condition matches when any of these (dotted) fields matches; `field` is then unused. */
  anyOf?: readonly string[];
}

export interface ListSpec {
  sortable: readonly string[];
  /** Applied when `?sort` is absent; a stable order so that pages do not overlap. */
  defaultSort: string;
  filters?: Record<string, FilterSpec>;
}

export interface ListQuery {
  page?: number;
  perPage?: number;
  sort?: string;
  [filter: string]: unknown;
}

export interface ListArgs {
  where: Record<string, unknown>;
  orderBy: Record<string, 'asc' | 'desc'>[];
  skip: number;
  take: number;
  page: number;
  perPage: number;
}

/**
 * Prisma passes `contains` / `startsWith` values into SQL LIKE unescaped, where `%` and `_` are wildcards and
 * `\\` the escape character (PostgreSQL's default ESCAPE). A search term is text, so all three are escaped.
 */
export function likeLiteral(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function filterSchema(spec: FilterSpec): TSchema {
  const description = spec.description;
  const opts = description === undefined ? {} : { description };
  switch (spec.type) {
    case 'string':
      return Type.String({ ...opts, minLength: 1, maxLength: 255 });
    case 'integer':
      return Type.Integer(opts);
    case 'boolean':
      return Type.Boolean(opts);
    case 'datetime':
      return Type.String({ ...opts, format: 'date-time' });
    case 'enum':
      return Type.Enum([...(spec.values ?? [])], opts);
  }
}

export function listQuerySchema(spec: ListSpec, extra: Record<string, TSchema> = {}): TObject {
  const props: Record<string, TSchema> = {
    page: Type.Optional(Type.Integer({ minimum: 1, default: 1, description: 'Page number, from 1' })),
    perPage: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_PER_PAGE,
        default: DEFAULT_PER_PAGE,
        description: 'Page size',
      }),
    ),
    sort: Type.Optional(
      Type.String({
        pattern: '^-?[A-Za-z][A-Za-z0-9]*(,-?[A-Za-z][A-Za-z0-9]*)*$',
        description: `Comma-separated fields, '-' for descending. Sortable: ${spec.sortable.join(', ')}`,
      }),
    ),
  };
  for (const [name, f] of Object.entries(spec.filters ?? {})) props[name] = Type.Optional(filterSchema(f));
  for (const [name, s] of Object.entries(extra)) props[name] = Type.Optional(s);
  return Type.Object(props);
}

/** Sets `value` at a dotted path, merging into what is already there (several filters on one relation). */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  const leaf = parts[parts.length - 1]!;
  const existing = node[leaf];
  if (typeof existing === 'object' && existing !== null && typeof value === 'object' && value !== null) {
    node[leaf] = { ...(existing as object), ...(value as object) };
  } else {
    node[leaf] = value;
  }
}

function orderFor(field: string, direction: 'asc' | 'desc'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  setPath(out, field, direction);
  return out;
}

export function parseSort(sort: string | undefined, spec: ListSpec): Record<string, 'asc' | 'desc'>[] {
  const terms = (sort ?? spec.defaultSort).split(',').filter((t) => t !== '');
  const orderBy: Record<string, 'asc' | 'desc'>[] = [];
  for (const term of terms) {
    const desc = term.startsWith('-');
    const field = desc ? term.slice(1) : term;
    if (!spec.sortable.includes(field)) {
      throw badRequest(`Cannot sort by '${field}'`, [
        {
          field: '/query/sort',
          message: `must be one of ${spec.sortable.join(', ')} (optionally prefixed by -)`,
        },
      ]);
    }
    orderBy.push(orderFor(field, desc ? 'desc' : 'asc') as Record<string, 'asc' | 'desc'>);
  }
  return orderBy;
}

export function listArgs(query: ListQuery, spec: ListSpec): ListArgs {
  const page = query.page ?? 1;
  const perPage = Math.min(query.perPage ?? DEFAULT_PER_PAGE, MAX_PER_PAGE);
  const where: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec.filters ?? {})) {
    const raw = query[name];
    if (raw === undefined) continue;
    const value = f.type === 'datetime' ? new Date(String(raw)) : raw;
    const op = f.op ?? 'eq';
    const condition =
      op === 'eq'
        ? value
        : op === 'contains' || op === 'startsWith'
          ? { [op]: likeLiteral(String(value)), mode: 'insensitive' }
          : { [op]: value };
    if (f.anyOf !== undefined) {
      const alternatives = f.anyOf.map((path) => {
        const one: Record<string, unknown> = {};
        setPath(one, path, condition);
        return one;
      });
      where.AND = [...((where.AND as unknown[] | undefined) ?? []), { OR: alternatives }];
      continue;
    }
    setPath(where, f.field ?? name, condition);
  }
  // Ties are broken by id so that consecutive pages never overlap or skip rows.
  const orderBy = parseSort(query.sort, spec);
  if (!orderBy.some((o) => 'id' in o)) orderBy.push({ id: 'asc' });
  return {
    where,
    orderBy,
    skip: (page - 1) * perPage,
    take: perPage,
    page,
    perPage,
  };
}

/** The envelope of every list response. */
export function PageOf<T extends TSchema>(item: T, description?: string) {
  return Type.Object(
    {
      items: Type.Array(item),
      page: Type.Integer({ minimum: 1 }),
      perPage: Type.Integer({ minimum: 1 }),
      total: Type.Integer({ minimum: 0, description: 'Number of matching records across all pages' }),
    },
    description === undefined ? {} : { description },
  );
}

/** The minimal surface of a Prisma model delegate that listing needs. */
export interface ListableDelegate<Row> {
  findMany(args: {
    where: Record<string, unknown>;
    orderBy: Record<string, unknown>[];
    skip: number;
    take: number;
    include?: object;
  }): Promise<Row[]>;
  count(args: { where: Record<string, unknown> }): Promise<number>;
}

/**
 * Runs one page query plus its count. `scope` is the caller's tenant condition, ANDed with the filters so a
 * filter can never widen what a tenant sees.
 */
export async function paginate<Row>(
  delegate: ListableDelegate<Row>,
  args: ListArgs,
  scope: Record<string, unknown> = {},
  include?: object,
): Promise<{ items: Row[]; page: number; perPage: number; total: number }> {
  const where = Object.keys(scope).length === 0 ? args.where : { AND: [scope, args.where] };
  const [items, total] = await Promise.all([
    delegate.findMany({
      where,
      orderBy: args.orderBy,
      skip: args.skip,
      take: args.take,
      ...(include ? { include } : {}),
    }),
    delegate.count({ where }),
  ]);
  return { items, page: args.page, perPage: args.perPage, total };
}
