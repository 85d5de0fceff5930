import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { CreditNoteRefused, issueCreditNote } from '../billing/invoices/credit-notes.ts';
import { parseMicros } from '../billing/money.ts';
import { badRequest, notFound } from '../errors.ts';
import { type ListSpec, listArgs, listQuerySchema, PageOf } from '../list.ts';
import { Timestamp, Uuid } from '../schemas.ts';
import { PROVIDER_ROLES, within } from '../tenancy.ts';
import { ROLES } from '../types.ts';
import { invoiceScope, Money } from './invoices.ts';
import type { RouteOptions } from './options.ts';

/**
 * Credit notes (docs/billing.md, "Credit notes"): the operator or a reseller (for its customers'
 * invoices) credits an invoice in part or in full with a reason; each note has its own number
 * (`CN-2026-000001`, a sequence apart from invoices') and PDF, and may credit a prepaid balance. Listed
 * to the same tenants as invoices: the operator all, a reseller its customers', a customer its own.
 */

const CreditNote = Type.Object({
  id: Uuid,
  number: Type.String({ description: 'CN, year and sequence, e.g. CN-2026-000001' }),
  invoiceId: Uuid,
  invoiceNumber: Type.String(),
  customerId: Uuid,
  resellerId: Type.Union([Uuid, Type.Null()]),
  currency: Type.String(),
  total: Money,
  net: Money,
  tax: Money,
  taxRate: Type.String({ description: "The invoice's tax percent" }),
  reason: Type.String(),
  balanceCredited: Type.Boolean(),
  createdAt: Timestamp,
});

const IssueBody = Type.Object(
  {
    amount: Type.Optional(
      Type.String({
        pattern: '^\\d{1,12}(\\.\\d{1,6})?$',
        description: 'Credited amount, tax included; absent with `full: true`',
      }),
    ),
    full: Type.Optional(Type.Boolean({ description: 'Credit what is left of the invoice' })),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    creditBalance: Type.Optional(
      Type.Boolean({ description: "Credit the customer's prepaid balance with the note's total" }),
    ),
  },
  { additionalProperties: false },
);

const creditNoteList: ListSpec = {
  sortable: ['number', 'createdAt'],
  defaultSort: '-number',
  filters: {
    customerId: { type: 'string', description: 'Credit notes of this customer' },
    invoiceId: { type: 'string', description: 'Credit notes of this invoice' },
  },
};

const SELECT = {
  id: true,
  number: true,
  invoiceId: true,
  customerId: true,
  resellerId: true,
  currency: true,
  total: true,
  net: true,
  tax: true,
  taxRate: true,
  reason: true,
  balanceCredited: true,
  createdAt: true,
  invoice: { select: { number: true } },
} as const;

type Amount = { toFixed(digits: number): string };

function item<
  Row extends { total: Amount; net: Amount; tax: Amount; taxRate: Amount; invoice: { number: string } },
>(row: Row) {
  const { invoice, ...rest } = row;
  return {
    ...rest,
    invoiceNumber: invoice.number,
    total: row.total.toFixed(6),
    net: row.net.toFixed(6),
    tax: row.tax.toFixed(6),
    taxRate: row.taxRate.toFixed(2),
  };
}

export async function creditNoteRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const params = Type.Object({ id: Uuid });

  app.post(
    '/invoices/:id/credit-notes',
    {
      config: { roles: PROVIDER_ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'issueCreditNote',
        summary: 'Credit an invoice in part (an amount) or in full, with a reason',
        params,
        body: IssueBody,
        response: { 201: CreditNote },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body;
      if ((body.amount === undefined) === (body.full !== true))
        throw badRequest('Give an amount or full: true', [
          { field: '/body/amount', message: 'give an amount, or full: true without one' },
        ]);
      const amountMicros = body.amount === undefined ? undefined : parseMicros(body.amount);
      if (amountMicros !== undefined && amountMicros <= 0)
        throw badRequest('The amount must be more than 0', [
          { field: '/body/amount', message: 'not more than 0' },
        ]);
      const visible = await prisma.invoice.findFirst({
        where: within(invoiceScope(principal), { id: request.params.id }),
        select: { id: true },
      });
      if (!visible) throw notFound('Invoice');
      try {
        const note = await prisma.$transaction(async (tx) => {
          const { id } = await issueCreditNote(tx, {
            invoiceId: visible.id,
            amountMicros,
            reason: body.reason,
            creditBalance: body.creditBalance === true,
            userId: principal.userId,
          });
          const row = await tx.creditNote.findUniqueOrThrow({ where: { id }, select: SELECT });
          await writeAudit(tx, request, {
            action: 'create',
            entity: 'credit_notes',
            entityId: id,
            after: item(row),
          });
          return row;
        });
        reply.code(201);
        return item(note);
      } catch (error) {
        if (error instanceof CreditNoteRefused)
          throw badRequest(`Cannot issue the credit note: ${error.message}`, [
            { field: error.field, message: error.message },
          ]);
        throw error;
      }
    },
  );

  app.get(
    '/credit-notes',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'listCreditNotes',
        summary: 'Credit notes the caller may see',
        querystring: listQuerySchema(creditNoteList),
        response: { 200: PageOf(CreditNote) },
      },
    },
    async (request) => {
      const args = listArgs(request.query, creditNoteList);
      const where = within(invoiceScope(principalOf(request)), args.where);
      const [rows, total] = await Promise.all([
        prisma.creditNote.findMany({
          where,
          orderBy: args.orderBy,
          skip: args.skip,
          take: args.take,
          select: SELECT,
        }),
        prisma.creditNote.count({ where }),
      ]);
      return { items: rows.map(item), page: args.page, perPage: args.perPage, total };
    },
  );

  app.get(
    '/credit-notes/:id',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'getCreditNote',
        summary: 'One credit note',
        params,
        response: { 200: CreditNote },
      },
    },
    async (request) => {
      const row = await prisma.creditNote.findFirst({
        where: within(invoiceScope(principalOf(request)), { id: request.params.id }),
        select: SELECT,
      });
      if (!row) throw notFound('Credit note');
      return item(row);
    },
  );

  app.get(
    '/credit-notes/:id/pdf',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'downloadCreditNote',
        summary: 'The credit note document (PDF)',
        params,
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
      const row = await prisma.creditNote.findFirst({
        where: within(invoiceScope(principalOf(request)), { id: request.params.id }),
        select: { number: true, pdf: true },
      });
      if (!row) throw notFound('Credit note');
      return reply
        .type('application/pdf')
        .header('Content-Disposition', `attachment; filename="credit-note-${row.number}.pdf"`)
        .send(Buffer.from(row.pdf));
    },
  );
}
