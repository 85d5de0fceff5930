import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { monthPeriod, runInvoices } from '../billing/invoices/run.ts';
import { decimalToMicros, formatMicros } from '../billing/money.ts';
import { badRequest, notFound } from '../errors.ts';
import { type ListSpec, listArgs, listQuerySchema, PageOf } from '../list.ts';
import { Timestamp, Uuid } from '../schemas.ts';
import { within } from '../tenancy.ts';
import { type Principal, ROLES } from '../types.ts';
import { operatorOnly } from './billing-profiles.ts';
import type { RouteOptions } from './options.ts';

/**
 * Invoices (docs/billing.md, "Postpaid and invoices"): the operator runs a month's invoices (the
 * billing component does so every month by itself); the operator, a reseller (its customers') and a
 * customer (its own) list them and download the PDF.
 */

export const Money = Type.String({
  pattern: '^-?\\d+\\.\\d{6}$',
  description: 'Decimal, six fraction digits',
});

const InvoiceLine = Type.Object({
  kind: Type.String({
    description: '`calls` (rated CDRs of one zone) or another line kind (top-ups, credits)',
  }),
  description: Type.String(),
  quantity: Type.Integer(),
  seconds: Type.Integer({ description: 'Billed seconds of a calls line' }),
  amount: Money,
  taxed: Type.Boolean({
    description: 'A net amount the tax is added to (calls); false: includes its tax already (top-ups)',
  }),
});

const TaxRate = Type.String({ pattern: '^\\d{1,3}\\.\\d{2}$', description: 'Percent, e.g. 20.00' });

const InvoiceTax = Type.Object({
  rate: TaxRate,
  base: Money,
  amount: Money,
});

export const Invoice = Type.Object({
  id: Uuid,
  number: Type.String({ description: 'Year and sequence, e.g. 2026-000001' }),
  customerId: Uuid,
  resellerId: Type.Union([Uuid, Type.Null()]),
  periodStart: Timestamp,
  periodEnd: Timestamp,
  currency: Type.String(),
  total: Money,
  net: Type.Union([Money, Type.Null()], { description: 'Sum of the taxed lines; null before taxes existed' }),
  tax: Type.Union([Money, Type.Null()]),
  taxes: Type.Array(InvoiceTax, { description: 'Tax per rate, each rounded half up once per invoice' }),
  customerTaxId: Type.Union([Type.String(), Type.Null()]),
  issuerTaxId: Type.Union([Type.String(), Type.Null()]),
  credited: Money,
  lines: Type.Array(InvoiceLine),
  createdAt: Timestamp,
});

const invoiceList: ListSpec = {
  sortable: ['number', 'periodStart', 'createdAt'],
  defaultSort: '-number',
  filters: {
    customerId: { type: 'string', description: 'Invoices of this customer' },
    from: { type: 'datetime', field: 'periodStart', op: 'gte', description: 'Periods starting at or after' },
  },
};

/** Who sees which invoice: the operator all, a reseller its customers', a customer its own. */
export function invoiceScope(p: Principal): Record<string, unknown> {
  if (p.role === 'operator') return {};
  if (p.role === 'reseller') return { resellerId: p.resellerId };
  return { customerId: p.customerId };
}

const SELECT = {
  id: true,
  number: true,
  customerId: true,
  resellerId: true,
  periodStart: true,
  periodEnd: true,
  currency: true,
  total: true,
  net: true,
  tax: true,
  taxes: true,
  customerTaxId: true,
  issuerTaxId: true,
  lines: true,
  createdAt: true,
  creditNotes: { select: { total: true } },
} as const;

type Amount = { toFixed(digits: number): string };

function item<
  Row extends {
    total: Amount;
    net: Amount | null;
    tax: Amount | null;
    taxes: unknown;
    lines: unknown;
    creditNotes: { total: Amount }[];
  },
>(row: Row) {
  const { creditNotes, ...rest } = row;
  // Invoices issued before taxes existed stored lines without `taxed`: calls were what tax applies to.
  const lines = (row.lines as (Static<typeof InvoiceLine> & { amountMicros?: number })[]).map(
    ({ amountMicros: _micros, ...line }) => ({ ...line, taxed: line.taxed ?? line.kind === 'calls' }),
  );
  const credited = creditNotes.reduce((sum, n) => sum + decimalToMicros(n.total), 0);
  return {
    ...rest,
    total: row.total.toFixed(6),
    net: row.net?.toFixed(6) ?? null,
    tax: row.tax?.toFixed(6) ?? null,
    taxes: (row.taxes ?? []) as Static<typeof InvoiceTax>[],
    credited: formatMicros(credited),
    lines,
  };
}

export async function invoiceRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/invoices/generate',
    {
      config: { roles: operatorOnly },
      schema: {
        tags: ['billing'],
        operationId: 'generateInvoices',
        summary: "Create a month's invoices (customers that have one already are skipped)",
        body: Type.Object(
          {
            month: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'e.g. 2026-11 (UTC)' }),
            customerId: Type.Optional(Uuid),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ created: Type.Array(Uuid), skipped: Type.Integer() }),
        },
      },
    },
    async (request) => {
      const period = monthPeriod(request.body.month);
      if (!period) throw badRequest('Not a month', [{ field: '/body/month', message: 'not a month' }]);
      if (period.to.getTime() > Date.now())
        throw badRequest('The month has not ended yet', [{ field: '/body/month', message: 'not ended yet' }]);
      const result = await runInvoices(prisma, period, { customerId: request.body.customerId });
      await writeAudit(prisma, request, {
        action: 'generate',
        entity: 'invoices',
        after: { month: period.month, created: result.created.length },
      });
      return result;
    },
  );

  app.get(
    '/invoices',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'listInvoices',
        summary: 'Invoices the caller may see',
        querystring: listQuerySchema(invoiceList),
        response: { 200: PageOf(Invoice) },
      },
    },
    async (request) => {
      const args = listArgs(request.query, invoiceList);
      const where = within(invoiceScope(principalOf(request)), args.where);
      const [rows, total] = await Promise.all([
        prisma.invoice.findMany({
          where,
          orderBy: args.orderBy,
          skip: args.skip,
          take: args.take,
          select: SELECT,
        }),
        prisma.invoice.count({ where }),
      ]);
      return { items: rows.map(item), page: args.page, perPage: args.perPage, total };
    },
  );

  app.get(
    '/invoices/:id',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'getInvoice',
        summary: 'One invoice',
        params: Type.Object({ id: Uuid }),
        response: { 200: Invoice },
      },
    },
    async (request) => {
      const row = await prisma.invoice.findFirst({
        where: within(invoiceScope(principalOf(request)), { id: request.params.id }),
        select: SELECT,
      });
      if (!row) throw notFound('Invoice');
      return item(row);
    },
  );

  app.get(
    '/invoices/:id/pdf',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'downloadInvoice',
        summary: 'The invoice document (PDF)',
        params: Type.Object({ id: Uuid }),
        response: {
          200: {
            content: {
              'application/pdf': { schema: Type.Unsafe<Buffer>(Type.String({ format: 'binary' })) },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const row = await prisma.invoice.findFirst({
        where: within(invoiceScope(principalOf(request)), { id: request.params.id }),
        select: { number: true, pdf: true },
      });
      if (!row) throw notFound('Invoice');
      return reply
        .type('application/pdf')
        .header('Content-Disposition', `attachment; filename="invoice-${row.number}.pdf"`)
        .send(Buffer.from(row.pdf));
    },
  );
}
