import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { CreditAccount, PrismaClient } from '@switchboard/db';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type Tx, writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { creditBalance, type TopUpKind } from '../billing/credit/balance.ts';
import { decimalToMicros, formatMicros, parseMicros } from '../billing/money.ts';
import { badRequest, forbidden, notFound } from '../errors.ts';
import { Nullable, Timestamp, Uuid } from '../schemas.ts';
import { PROVIDER_ROLES, scopes } from '../tenancy.ts';
import type { Principal } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * A customer's credit (docs/billing.md, "Prepaid" and "Fraud limits"): its balance and settings, top-ups
 * by its provider (the operator or its reseller) with their history, its credit and fraud events, and a
 * subscriber's own spend limits. Money is a decimal string with at most six decimals, exact.
 * A customer reads its own; a reseller its customers'; a customer outside the caller's scope is 404.
 */

const Money = Type.String({
  pattern: '^\\d{1,12}(\\.\\d{1,6})?$',
  description: 'Decimal amount, e.g. "5.00"',
});
const Percent = Type.Integer({ minimum: 1, maximum: 100 });

export const CreditAccountItem = Type.Object({
  customerId: Uuid,
  prepaid: Type.Boolean(),
  balance: Type.String({ description: 'Six decimals' }),
  reserved: Type.String({ description: 'Credit held by calls in progress' }),
  lowBalanceThreshold: Nullable(Type.String()),
  notifyEmail: Nullable(Type.String()),
  webhookUrl: Nullable(Type.String()),
  dailyLimit: Nullable(Type.String()),
  monthlyLimit: Nullable(Type.String()),
  limitWarnPercent: Type.Integer(),
  blockedUntil: Nullable(Timestamp),
  highRiskAction: Type.Enum(['alert', 'block']),
  burstCalls: Nullable(Type.Integer()),
  burstSeconds: Nullable(Type.Integer()),
});

const CreditPatch = Type.Object(
  {
    prepaid: Type.Optional(Type.Boolean()),
    lowBalanceThreshold: Type.Optional(Nullable(Money)),
    notifyEmail: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
    webhookUrl: Type.Optional(Nullable(Type.String({ format: 'uri', maxLength: 2048 }))),
    dailyLimit: Type.Optional(Nullable(Money)),
    monthlyLimit: Type.Optional(Nullable(Money)),
    limitWarnPercent: Type.Optional(Percent),
    blockedUntil: Type.Optional(Type.Null({ description: 'null lifts a spend-limit block' })),
    highRiskAction: Type.Optional(
      Type.Enum(['alert', 'block'], {
        description: 'A call to a high-risk prefix at call start: alerted and let through, or refused',
      }),
    ),
    burstCalls: Type.Optional(
      Nullable(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Alert above this many calls' })),
    ),
    burstSeconds: Type.Optional(
      Nullable(
        Type.Integer({ minimum: 1, maximum: 86_400, description: '... started within this many seconds' }),
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** What a customer may change itself; the rest is its provider's policy. */
const CUSTOMER_FIELDS = new Set(['lowBalanceThreshold', 'notifyEmail']);

const TopUpItem = Type.Object({
  id: Uuid,
  customerId: Uuid,
  kind: Type.Enum(['operator', 'reseller', 'voucher', 'credit_note'], {
    description: '`credit_note`: a credit note credited back to the balance',
  }),
  amount: Type.String(),
  balanceAfter: Type.String(),
  voucherId: Nullable(Uuid),
  note: Nullable(Type.String()),
  createdAt: Timestamp,
});

const EventItem = Type.Object({
  id: Uuid,
  kind: Type.String(),
  detail: Type.Unknown(),
  createdAt: Timestamp,
  deliveredAt: Nullable(Timestamp),
});

const CustomerParams = Type.Object({ customerId: Uuid });
const Page = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  before: Type.Optional(Type.String({ format: 'date-time', description: 'Older than this' })),
});

/** Largest single top-up, in micros (a typing slip of a few digits is refused rather than credited). */
const MAX_TOP_UP = 1_000_000 * 1_000_000;

const text = (d: { toFixed(n: number): string } | null) => (d === null ? null : d.toFixed(6));

export function creditItem(account: CreditAccount | null, customerId: string, reservedMicros: number) {
  return {
    customerId,
    prepaid: account?.prepaid ?? false,
    balance: account ? account.balance.toFixed(6) : '0.000000',
    reserved: formatMicros(reservedMicros),
    lowBalanceThreshold: text(account?.lowBalanceThreshold ?? null),
    notifyEmail: account?.notifyEmail ?? null,
    webhookUrl: account?.webhookUrl ?? null,
    dailyLimit: text(account?.dailyLimit ?? null),
    monthlyLimit: text(account?.monthlyLimit ?? null),
    limitWarnPercent: account?.limitWarnPercent ?? 80,
    blockedUntil: account?.blockedUntil ?? null,
    highRiskAction: account?.highRiskAction ?? 'alert',
    burstCalls: account?.burstCalls ?? null,
    burstSeconds: account?.burstSeconds ?? null,
  };
}

/** A burst alert needs both its count and its window: one set alone is refused, naming the other. */
function checkBurst(
  before: { burstCalls: number | null; burstSeconds: number | null } | null,
  body: { burstCalls?: number | null | undefined; burstSeconds?: number | null | undefined },
): void {
  const calls = body.burstCalls !== undefined ? body.burstCalls : (before?.burstCalls ?? null);
  const seconds = body.burstSeconds !== undefined ? body.burstSeconds : (before?.burstSeconds ?? null);
  if ((calls === null) === (seconds === null)) return;
  const missing = calls === null ? 'burstCalls' : 'burstSeconds';
  throw badRequest('burstCalls and burstSeconds are set together', [
    { field: `/body/${missing}`, message: 'required with the other burst setting' },
  ]);
}

/** The customer if the principal may see it, else 404 (as if it did not exist). */
export async function visibleCustomer(db: Tx, principal: Principal, customerId: string) {
  const customer = await db.customer.findFirst({
    where: { AND: [{ id: customerId }, scopes.customer(principal)] },
    select: { id: true, resellerId: true },
  });
  if (!customer) throw notFound('Customer');
  return customer;
}

export async function reservedMicros(db: Tx, customerId: string): Promise<number> {
  const rows = await db.$queryRawUnsafe<Array<{ held: string }>>(
    `SELECT coalesce(sum(amount), 0)::numeric(18,6)::text AS held FROM credit_reservations
      WHERE customer_id = $1::uuid AND expires_at > now()`,
    customerId,
  );
  return decimalToMicros(rows[0]?.held ?? '0');
}

export const topUpItem = (t: {
  id: string;
  customerId: string;
  kind: TopUpKind;
  amount: { toFixed(n: number): string };
  balanceAfter: { toFixed(n: number): string };
  voucherId: string | null;
  note: string | null;
  createdAt: Date;
}) => ({ ...t, amount: t.amount.toFixed(6), balanceAfter: t.balanceAfter.toFixed(6) });

function money(field: string, value: string | null | undefined): number | null | undefined {
  if (value === undefined || value === null) return value;
  const micros = parseMicros(value);
  if (micros === undefined)
    throw badRequest(`${field} is not an amount`, [{ field: `/body/${field}`, message: 'not an amount' }]);
  return micros;
}

export async function creditRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const readers = ['operator', 'reseller', 'customer'] as const;

  app.get(
    '/customers/:customerId/credit',
    {
      config: { roles: readers },
      schema: {
        tags: ['billing'],
        operationId: 'getCredit',
        summary: "A customer's balance, credit and spend limit settings",
        params: CustomerParams,
        response: { 200: CreditAccountItem },
      },
    },
    async (request) => {
      const { customerId } = request.params;
      await visibleCustomer(prisma, principalOf(request), customerId);
      const account = await prisma.creditAccount.findUnique({ where: { customerId } });
      return creditItem(account, customerId, await reservedMicros(prisma, customerId));
    },
  );

  app.patch(
    '/customers/:customerId/credit',
    {
      config: { roles: readers },
      schema: {
        tags: ['billing'],
        operationId: 'updateCredit',
        summary: "Change a customer's credit settings (prepaid, thresholds, spend limits)",
        description:
          "The balance changes only by top-ups and calls. A customer may set its low-balance threshold and notification e-mail; the rest is its provider's.",
        params: CustomerParams,
        body: CreditPatch,
        response: { 200: CreditAccountItem },
      },
    },
    async (request) => {
      const { customerId } = request.params;
      const principal = principalOf(request);
      const body = request.body;
      if (principal.role === 'customer') {
        const field = Object.keys(body).find((k) => !CUSTOMER_FIELDS.has(k));
        if (field)
          throw forbidden('Only your provider may change this', [
            { field: `/body/${field}`, message: 'a customer may not set this field' },
          ]);
      }
      const amounts = {
        lowBalanceThreshold: money('lowBalanceThreshold', body.lowBalanceThreshold),
        dailyLimit: money('dailyLimit', body.dailyLimit),
        monthlyLimit: money('monthlyLimit', body.monthlyLimit),
      };
      if (body.webhookUrl && !/^https?:\/\//i.test(body.webhookUrl))
        throw badRequest('The webhook is an http(s) URL', [
          { field: '/body/webhookUrl', message: 'expected http or https' },
        ]);
      return prisma.$transaction(async (tx) => {
        await visibleCustomer(tx, principal, customerId);
        const before = await tx.creditAccount.findUnique({ where: { customerId } });
        checkBurst(before, body);
        const data = {
          ...body,
          ...Object.fromEntries(
            Object.entries(amounts)
              .filter(([, v]) => v !== undefined)
              .map(([k, v]) => [k, v === null ? null : formatMicros(v as number)]),
          ),
        };
        const after = await tx.creditAccount.upsert({
          where: { customerId },
          create: { customerId, ...data },
          update: data,
        });
        await writeAudit(tx, request, {
          action: 'update',
          entity: 'credit',
          entityId: customerId,
          before: before ?? undefined,
          after,
        });
        return creditItem(after, customerId, await reservedMicros(tx, customerId));
      });
    },
  );

  app.post(
    '/customers/:customerId/credit/top-ups',
    {
      config: { roles: PROVIDER_ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'topUpCredit',
        summary: "Top up a customer's prepaid balance",
        params: CustomerParams,
        body: Type.Object(
          { amount: Money, note: Type.Optional(Type.String({ maxLength: 500 })) },
          { additionalProperties: false },
        ),
        response: { 201: TopUpItem },
      },
    },
    async (request, reply) => {
      const { customerId } = request.params;
      const principal = principalOf(request);
      const micros = money('amount', request.body.amount)!;
      if (micros <= 0 || micros > MAX_TOP_UP)
        throw badRequest('A top-up is more than 0 and at most 1000000', [
          { field: '/body/amount', message: 'out of range' },
        ]);
      const topUp = await prisma.$transaction(async (tx) => {
        await visibleCustomer(tx, principal, customerId);
        const kind = principal.role === 'operator' ? 'operator' : 'reseller';
        const created = await creditBalance(
          tx,
          { customerId, micros, kind, userId: principal.userId },
          { note: request.body.note ?? null },
        );
        await writeAudit(tx, request, {
          action: 'create',
          entity: 'credit-top-ups',
          entityId: created.id,
          after: created,
        });
        return created;
      });
      reply.code(201);
      return topUpItem(topUp);
    },
  );

  app.get(
    '/customers/:customerId/credit/top-ups',
    {
      config: { roles: readers },
      schema: {
        tags: ['billing'],
        operationId: 'listTopUps',
        summary: "A customer's top-ups, newest first",
        params: CustomerParams,
        querystring: Page,
        response: { 200: Type.Object({ items: Type.Array(TopUpItem) }) },
      },
    },
    async (request) => {
      const { customerId } = request.params;
      await visibleCustomer(prisma, principalOf(request), customerId);
      const { limit = 100, before } = request.query;
      const rows = await prisma.creditTopUp.findMany({
        where: { customerId, ...(before ? { createdAt: { lt: new Date(before) } } : {}) },
        orderBy: { createdAt: 'desc' },
        take: limit,
      });
      return { items: rows.map(topUpItem) };
    },
  );

  app.get(
    '/customers/:customerId/credit/events',
    {
      config: { roles: readers },
      schema: {
        tags: ['billing'],
        operationId: 'listCreditEvents',
        summary: "A customer's credit and fraud events (low balance, spend limits, unusual destinations)",
        params: CustomerParams,
        querystring: Page,
        response: { 200: Type.Object({ items: Type.Array(EventItem) }) },
      },
    },
    async (request) => {
      const { customerId } = request.params;
      await visibleCustomer(prisma, principalOf(request), customerId);
      const { limit = 100, before } = request.query;
      const items = await prisma.creditEvent.findMany({
        where: { customerId, ...(before ? { createdAt: { lt: new Date(before) } } : {}) },
        orderBy: { createdAt: 'desc' },
        take: limit,
        select: { id: true, kind: true, detail: true, createdAt: true, deliveredAt: true },
      });
      return { items };
    },
  );

  registerSpendLimitRoutes(fastify, prisma);
}

const SpendLimitItem = Type.Object({
  subscriberId: Uuid,
  dailyLimit: Nullable(Type.String()),
  monthlyLimit: Nullable(Type.String()),
  limitWarnPercent: Type.Integer(),
  blockedUntil: Nullable(Timestamp),
});

/** A subscriber's own daily and monthly spend limits (its provider sets them). */
function registerSpendLimitRoutes(fastify: FastifyInstance, prisma: PrismaClient): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const params = Type.Object({ subscriberId: Uuid });
  const toItem = (
    subscriberId: string,
    row: {
      dailyLimit: unknown;
      monthlyLimit: unknown;
      limitWarnPercent: number;
      blockedUntil: Date | null;
    } | null,
  ) => ({
    subscriberId,
    dailyLimit: text((row?.dailyLimit as { toFixed(n: number): string } | null) ?? null),
    monthlyLimit: text((row?.monthlyLimit as { toFixed(n: number): string } | null) ?? null),
    limitWarnPercent: row?.limitWarnPercent ?? 80,
    blockedUntil: row?.blockedUntil ?? null,
  });
  const visible = async (db: Tx, principal: Principal, subscriberId: string) => {
    const found = await db.subscriber.findFirst({
      where: { AND: [{ id: subscriberId }, scopes.subscriber(principal)] },
      select: { id: true },
    });
    if (!found) throw notFound('Subscriber');
  };
  app.get(
    '/subscribers/:subscriberId/spend-limit',
    {
      config: { roles: ['operator', 'reseller', 'customer'] },
      schema: {
        tags: ['billing'],
        operationId: 'getSpendLimit',
        summary: "A subscriber's own spend limits",
        params,
        response: { 200: SpendLimitItem },
      },
    },
    async (request) => {
      const { subscriberId } = request.params;
      await visible(prisma, principalOf(request), subscriberId);
      return toItem(subscriberId, await prisma.subscriberSpendLimit.findUnique({ where: { subscriberId } }));
    },
  );
  app.patch(
    '/subscribers/:subscriberId/spend-limit',
    {
      config: { roles: PROVIDER_ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'updateSpendLimit',
        summary: "Set a subscriber's daily and monthly spend limits",
        params,
        body: Type.Object(
          {
            dailyLimit: Type.Optional(Nullable(Money)),
            monthlyLimit: Type.Optional(Nullable(Money)),
            limitWarnPercent: Type.Optional(Percent),
            blockedUntil: Type.Optional(Type.Null({ description: 'null lifts a block' })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: SpendLimitItem },
      },
    },
    async (request) => {
      const { subscriberId } = request.params;
      const body = request.body;
      const data = {
        ...body,
        ...(body.dailyLimit !== undefined
          ? {
              dailyLimit:
                body.dailyLimit === null ? null : formatMicros(money('dailyLimit', body.dailyLimit)!),
            }
          : {}),
        ...(body.monthlyLimit !== undefined
          ? {
              monthlyLimit:
                body.monthlyLimit === null ? null : formatMicros(money('monthlyLimit', body.monthlyLimit)!),
            }
          : {}),
      };
      return prisma.$transaction(async (tx) => {
        await visible(tx, principalOf(request), subscriberId);
        const after = await tx.subscriberSpendLimit.upsert({
          where: { subscriberId },
          create: { subscriberId, ...data },
          update: data,
        });
        await writeAudit(tx, request, {
          action: 'update',
          entity: 'spend-limits',
          entityId: subscriberId,
          after,
        });
        return toItem(subscriberId, after);
      });
    },
  );
}
