import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { PrismaClient } from '@switchboard/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../auth/authenticate.ts';
import { including, type Loaded, registerCrud } from '../crud.ts';
import {
  type ListQuery,
  type ListSpec,
  likeLiteral,
  listArgs,
  listQuerySchema,
  PageOf,
  paginate,
} from '../list.ts';
import { ANONYMOUS_CALLER } from '../live/visible-calls.ts';
import { Nullable, Timestamp, Uuid } from '../schemas.ts';
import { scopes, type Where, within } from '../tenancy.ts';
import { type Principal, ROLES } from '../types.ts';
import type { RouteOptions } from './options.ts';

/** Call detail records: lists, CSV export, a summary over a period, one record. */

const everyone = ROLES;

const Disposition = Type.Enum(['answered', 'busy', 'no_answer', 'cancelled', 'failed', 'rejected']);
export const Direction = Type.Enum(['internal', 'outbound', 'inbound']);

export const Cdr = Type.Object({
  id: Uuid,
  callId: Type.String(),
  direction: Direction,
  callerDialled: Type.String(),
  calleeDialled: Type.String(),
  callerRouted: Nullable(Type.String()),
  calleeRouted: Nullable(Type.String()),
  callerWithheld: Type.Boolean({
    description:
      "The callee was shown an anonymous caller (CLIR, a peer's Privacy header). Seen only from the callee's side, the caller fields then read `anonymous` and null.",
  }),
  startedAt: Timestamp,
  answeredAt: Nullable(Timestamp),
  endedAt: Timestamp,
  durationMs: Type.Integer({ description: 'Billable duration from answer to end, milliseconds' }),
  disposition: Disposition,
  sipCode: Nullable(Type.Integer()),
  sipReason: Nullable(Type.String()),
  callerSubscriberId: Nullable(Uuid),
  calleeSubscriberId: Nullable(Uuid),
  callerCustomerId: Nullable(Uuid),
  calleeCustomerId: Nullable(Uuid),
  peerGatewayId: Nullable(Uuid),
  forwardedFrom: Nullable(
    Type.String({ description: 'AOR of the subscriber whose call forward reached the final callee' }),
  ),
  forwardType: Nullable(Type.Enum(['cfu', 'cfb', 'cft', 'cfna'])),
  pushWaitMs: Nullable(
    Type.Integer({ description: 'Milliseconds the call waited for a mobile app woken by push to register' }),
  ),
  node: Nullable(Type.String()),
  ratingStatus: Type.Enum(['unrated', 'rated', 'unrateable'], {
    description: 'unrated: waiting for the rater; unrateable: see ratingError (e.g. no zone matches)',
  }),
  ratingError: Nullable(Type.String()),
  ratedAt: Nullable(Timestamp),
  customerPrice: Nullable(
    Type.String({ description: "Decimal amount the caller's customer is charged (its sell profile)" }),
  ),
  customerCurrency: Nullable(Type.String()),
  customerZone: Nullable(Type.String()),
  resellerPrice: Nullable(
    Type.String({ description: "What the operator charges the caller's reseller; not shown to customers" }),
  ),
  resellerCurrency: Nullable(Type.String()),
  resellerZone: Nullable(Type.String()),
  carrierCost: Nullable(
    Type.String({ description: "The carrier's cost of an outbound call; operator only" }),
  ),
  carrierCurrency: Nullable(Type.String()),
  carrierZone: Nullable(Type.String()),
});

const CSV_COLUMNS = [
  'id',
  'callId',
  'direction',
  'callerDialled',
  'calleeDialled',
  'callerRouted',
  'calleeRouted',
  'callerWithheld',
  'startedAt',
  'answeredAt',
  'endedAt',
  'durationMs',
  'disposition',
  'sipCode',
  'sipReason',
  'callerSubscriberId',
  'calleeSubscriberId',
  'callerCustomerId',
  'calleeCustomerId',
  'peerGatewayId',
  'forwardedFrom',
  'forwardType',
  'pushWaitMs',
  'ratingStatus',
  'customerPrice',
  'customerCurrency',
  'customerZone',
  'resellerPrice',
  'resellerCurrency',
  'resellerZone',
  'carrierCost',
  'carrierCurrency',
  'carrierZone',
] as const;
/** An export is one response; past this many rows, narrow the time range. */
export const MAX_CSV_ROWS = 100_000;
const CSV_BATCH = 1000;

const cdrList: ListSpec = {
  sortable: ['startedAt', 'endedAt', 'durationMs', 'disposition'],
  defaultSort: '-startedAt',
  filters: {
    from: { type: 'datetime', field: 'startedAt', op: 'gte', description: 'Calls started at or after' },
    to: { type: 'datetime', field: 'startedAt', op: 'lt', description: 'Calls started before' },
    disposition: {
      type: 'enum',
      values: ['answered', 'busy', 'no_answer', 'cancelled', 'failed', 'rejected'],
    },
    direction: { type: 'enum', values: ['internal', 'outbound', 'inbound'] },
    callId: { type: 'string' },
    ratingStatus: {
      type: 'enum',
      values: ['unrated', 'rated', 'unrateable'],
      description: 'e.g. `rated` with from/to and format=csv: the rated CDRs of a billing period',
    },
  },
};
const cdrExtraQuery = {
  subscriberId: Type.String({ format: 'uuid', description: 'Calls made or received by this subscriber' }),
  customerId: Type.String({ format: 'uuid', description: 'Calls made or received by this customer' }),
  number: Type.String({
    minLength: 1,
    maxLength: 32,
    description:
      "Part of the caller or callee number, as dialled or routed, or of a number of the caller's or callee's subscriber",
  }),
  format: Type.Enum(['json', 'csv'], {
    description: 'csv exports every matching row (also via Accept: text/csv)',
  }),
};

interface CdrQuery extends ListQuery {
  subscriberId?: string;
  customerId?: string;
  number?: string;
  format?: 'json' | 'csv';
}

/**
 * Conditions that look at either end of a call. The caller's end only matches where the principal may
 * see the caller (`scopes.cdrCallerVisible`): a callee's customer searching for a number or customer must
 * not learn from a match who a withheld caller was.
 */
function cdrConditions(q: CdrQuery, principal: Principal): Where[] {
  const caller = (condition: Where): Where => within(scopes.cdrCallerVisible(principal), condition);
  const and: Where[] = [];
  if (q.subscriberId)
    and.push({
      OR: [caller({ callerSubscriberId: q.subscriberId }), { calleeSubscriberId: q.subscriberId }],
    });
  if (q.customerId)
    and.push({ OR: [caller({ callerCustomerId: q.customerId }), { calleeCustomerId: q.customerId }] });
  if (q.number) {
    const contains = { contains: likeLiteral(q.number) };
    // A subscriber's phone may dial as its user name: its E.164 numbers find its calls too.
    const digits = q.number.replace(/[\s\-().]/g, '');
    const numbered = { numbers: { some: { e164: { contains: likeLiteral(digits) } } } };
    and.push({
      OR: [
        caller({
          OR: [{ callerDialled: contains }, { callerRouted: contains }, { callerSubscriber: numbered }],
        }),
        { calleeDialled: contains },
        { calleeRouted: contains },
        { calleeSubscriber: numbered },
      ],
    });
  }
  return and;
}

/** Loaded with every CDR a principal reads, to tell whether a reseller is on the caller's side. */
const cdrInclude = {
  callerCustomer: { select: { resellerId: true } },
  billedCustomer: { select: { resellerId: true } },
} as const;
const cdrModel = including((db) => db.cdr, cdrInclude);
type CdrRow = Loaded<PrismaClient['cdr'], typeof cdrInclude>;

type Amount = { toFixed(digits: number): string } | null;
const amount = (value: Amount) => (value === null ? null : value.toFixed(6));

/**
 * The prices a principal may see (docs/billing.md): the customer price belongs to the caller's customer
 * and its reseller, the reseller price to that reseller, the carrier cost to the operator. Whoever sees
 * the call only from the callee's side sees none of them.
 */
function visiblePrices(row: CdrRow, principal: Principal, callerSide: boolean) {
  const operator = principal.role === 'operator';
  const reseller = principal.role === 'reseller' && callerSide;
  const customer = operator || callerSide;
  return {
    customerPrice: customer ? amount(row.customerPrice) : null,
    customerCurrency: customer ? row.customerCurrency : null,
    customerZone: customer ? row.customerZone : null,
    resellerPrice: operator || reseller ? amount(row.resellerPrice) : null,
    resellerCurrency: operator || reseller ? row.resellerCurrency : null,
    resellerZone: operator || reseller ? row.resellerZone : null,
    carrierCost: operator ? amount(row.carrierCost) : null,
    carrierCurrency: operator ? row.carrierCurrency : null,
    carrierZone: operator ? row.carrierZone : null,
  };
}

/**
 * A CDR as the principal may see it. A withheld caller (`callerWithheld`, CLIR or a peer's Privacy
 * header) stays visible to the operator and to the caller's own side (its customer, that customer's
 * reseller); whoever sees the call only from the callee's side gets it as the callee's phone did.
 */
function cdrItem(row: CdrRow, principal: Principal) {
  const { callerCustomer, billedCustomer, ratingCount: _count, ratedNumber: _number, ...cdr } = row;
  const side = (customerId: string | null, resellerId: string | null | undefined): boolean =>
    principal.role === 'operator' ||
    (principal.role === 'reseller'
      ? resellerId != null && resellerId === principal.resellerId
      : customerId === principal.customerId);
  const callerSide = side(cdr.callerCustomerId, callerCustomer?.resellerId);
  // A call forwarded to the phone network is priced for the forwarding customer, who pays it.
  const payerSide = cdr.billedCustomerId
    ? side(cdr.billedCustomerId, billedCustomer?.resellerId)
    : callerSide;
  const priced = { ...cdr, ...visiblePrices(row, principal, payerSide) };
  if (!cdr.callerWithheld || callerSide) return priced;
  return {
    ...priced,
    callerDialled: ANONYMOUS_CALLER,
    callerRouted: ANONYMOUS_CALLER,
    callerSubscriberId: null,
    callerCustomerId: null,
  };
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = value instanceof Date ? value.toISOString() : String(value);
  // Cells a spreadsheet would run as a formula are neutralised (numbers may start with + and stay as they are).
  if (/^[=@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function wantsCsv(request: FastifyRequest, q: CdrQuery): boolean {
  if (q.format === 'csv') return true;
  if (q.format === 'json') return false;
  const accept = request.headers.accept ?? '';
  return /\btext\/csv\b/i.test(accept) && !/\bapplication\/json\b/i.test(accept.split(',')[0] ?? '');
}

export async function cdrRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/cdrs',
    {
      config: { roles: everyone },
      schema: {
        tags: ['cdrs'],
        operationId: 'listCdrs',
        summary: 'List call detail records',
        description: 'JSON pages, or every matching row as CSV with `Accept: text/csv` or `?format=csv`.',
        querystring: listQuerySchema(cdrList, cdrExtraQuery),
        response: {
          200: {
            description: 'A page of CDRs, or a CSV export',
            content: {
              'application/json': { schema: PageOf(Cdr) },
              'text/csv': { schema: Type.String() },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const q = request.query;
      const args = listArgs(q, cdrList);
      const conditions = cdrConditions(q, principal);
      if (conditions.length > 0) args.where = { AND: [args.where, ...conditions] };
      const scope = scopes.cdr(principal);
      if (!wantsCsv(request, q)) {
        const page = await paginate(cdrModel.model(prisma), args, scope, cdrInclude);
        return reply
          .type('application/json')
          .send({ ...page, items: page.items.map((row) => cdrItem(row, principal)) });
      }
      const where = within(scope, args.where);
      const lines = [CSV_COLUMNS.join(',')];
      for (let skip = 0; skip < MAX_CSV_ROWS; skip += CSV_BATCH) {
        const rows = await prisma.cdr.findMany({
          where,
          orderBy: args.orderBy,
          skip,
          take: CSV_BATCH,
          include: cdrInclude,
        });
        for (const row of rows) {
          const item = cdrItem(row, principal);
          lines.push(CSV_COLUMNS.map((c) => csvCell(item[c])).join(','));
        }
        if (rows.length < CSV_BATCH) break;
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="cdrs.csv"')
        .send(`${lines.join('\r\n')}\r\n`);
    },
  );

  app.get(
    '/cdrs/summary',
    {
      config: { roles: everyone },
      schema: {
        tags: ['cdrs'],
        operationId: 'summariseCdrs',
        summary: 'Call count and talk time (spending) over a period',
        description: 'CDRs carry no cost yet, so spending is the billable duration of answered calls.',
        querystring: Type.Object({
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          subscriberId: Type.Optional(cdrExtraQuery.subscriberId),
          customerId: Type.Optional(cdrExtraQuery.customerId),
        }),
        response: {
          200: Type.Object({
            calls: Type.Integer(),
            answered: Type.Integer(),
            totalDurationMs: Type.Integer(),
            totalDurationSeconds: Type.Integer({
              description: 'Rounded up per call is not applied; plain sum / 1000',
            }),
          }),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const q = request.query;
      const args = listArgs(
        { from: q.from, to: q.to },
        {
          sortable: [],
          defaultSort: '',
          filters: { from: cdrList.filters!.from!, to: cdrList.filters!.to! },
        },
      );
      const where = within(scopes.cdr(principal), {
        AND: [args.where, ...cdrConditions(q, principal)],
      });
      const [all, answered] = await Promise.all([
        prisma.cdr.aggregate({ where, _count: { _all: true }, _sum: { durationMs: true } }),
        prisma.cdr.count({ where: { AND: [where, { disposition: 'answered' }] } }),
      ]);
      const total = all._sum.durationMs ?? 0;
      return {
        calls: all._count._all,
        answered,
        totalDurationMs: total,
        totalDurationSeconds: Math.floor(total / 1000),
      };
    },
  );

  registerCrud(app, prisma, {
    path: '/cdrs',
    entity: 'cdrs',
    singular: 'CDR',
    tag: 'cdrs',
    ...cdrModel,
    item: Cdr,
    verbs: ['read'],
    list: cdrList,
    readRoles: everyone,
    writeRoles: [],
    readScope: scopes.cdr,
    toItem: cdrItem,
  });
}
