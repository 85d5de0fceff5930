import { createHash, randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { writeAudit } from '../audit.ts';
import { principalOf } from '../auth/authenticate.ts';
import { creditBalance } from '../billing/credit/balance.ts';
import { formatMicros, parseMicros } from '../billing/money.ts';
import { badRequest, notFound, tooManyRequests } from '../errors.ts';
import { WindowLimiter } from '../limiter.ts';
import { Nullable, Timestamp, Uuid } from '../schemas.ts';
import { PROVIDER_ROLES } from '../tenancy.ts';
import { topUpItem, visibleCustomer } from './credit.ts';
import type { RouteOptions } from './options.ts';

/**
 * Prepaid vouchers (docs/billing.md, "Vouchers"): the operator or a reseller issues codes of an amount;
 * a customer redeems one in the portal and its balance grows by it. A code is 16 random characters
 * (80 bits) shown once at issue; only its SHA-256 is stored. A code is redeemable once: the redemption
 * is one UPDATE that only an unredeemed, unexpired voucher of the customer's provider matches. Failed
 * redemptions are limited per user, so codes cannot be guessed through the API.
 */

/** Crockford base32 without I, L, O, U: unambiguous to read out and type. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MAX_BATCH = 100;
const MAX_VOUCHER = 100_000 * 1_000_000;

export function newVoucherCode(): string {
  const bytes = randomBytes(16);
  let code = '';
  for (let i = 0; i < 16; i++) code += ALPHABET[bytes[i]! & 31];
  return code.replace(/(.{4})(?!$)/g, '$1-');
}

/** The stored form of a code: dashes, spaces and case do not matter to whoever types it. */
export function voucherHash(code: string): string {
  const normal = code.toUpperCase().replace(/[\s-]/g, '');
  return createHash('sha256').update(normal).digest('hex');
}

const VoucherItem = Type.Object({
  id: Uuid,
  codeHint: Type.String({ description: 'Last four characters of the code' }),
  amount: Type.String(),
  resellerId: Nullable(Uuid),
  expiresAt: Nullable(Timestamp),
  redeemedAt: Nullable(Timestamp),
  redeemedBy: Nullable(Uuid),
  createdAt: Timestamp,
});

type VoucherRow = {
  id: string;
  codeHint: string;
  amount: { toFixed(n: number): string };
  resellerId: string | null;
  expiresAt: Date | null;
  redeemedAt: Date | null;
  redeemedBy: string | null;
  createdAt: Date;
};
const toItem = ({ amount, ...rest }: VoucherRow) => ({ ...rest, amount: amount.toFixed(6) });
const columns = {
  id: true,
  codeHint: true,
  amount: true,
  resellerId: true,
  expiresAt: true,
  redeemedAt: true,
  redeemedBy: true,
  createdAt: true,
} as const;

export async function voucherRoutes(
  fastify: FastifyInstance,
  { prisma, limits, now }: RouteOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const failures = new WindowLimiter({ max: 10, windowMs: limits.loginWindowMs }, now);

  app.post(
    '/vouchers',
    {
      config: { roles: PROVIDER_ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'createVouchers',
        summary: 'Issue vouchers; the codes are answered once and never again',
        body: Type.Object(
          {
            amount: Type.String({ pattern: '^\\d{1,12}(\\.\\d{1,6})?$' }),
            count: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BATCH, default: 1 })),
            expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            items: Type.Array(Type.Object({ ...VoucherItem.properties, code: Type.String() })),
          }),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const micros = parseMicros(request.body.amount) ?? 0;
      if (micros <= 0 || micros > MAX_VOUCHER)
        throw badRequest('A voucher is worth more than 0 and at most 100000', [
          { field: '/body/amount', message: 'out of range' },
        ]);
      const expiresAt = request.body.expiresAt ? new Date(request.body.expiresAt) : null;
      if (expiresAt && expiresAt.getTime() <= now())
        throw badRequest('expiresAt is in the past', [{ field: '/body/expiresAt', message: 'in the past' }]);
      const codes = Array.from({ length: request.body.count ?? 1 }, newVoucherCode);
      const items = await prisma.$transaction(async (tx) => {
        const created = [];
        for (const code of codes) {
          const row = await tx.voucher.create({
            data: {
              codeHash: voucherHash(code),
              codeHint: code.slice(-4),
              amount: formatMicros(micros),
              resellerId: principal.role === 'reseller' ? principal.resellerId : null,
              expiresAt,
            },
            select: columns,
          });
          created.push({ ...toItem(row), code });
        }
        await writeAudit(tx, request, {
          action: 'create',
          entity: 'vouchers',
          after: { count: created.length, amount: formatMicros(micros), ids: created.map((c) => c.id) },
        });
        return created;
      });
      reply.code(201);
      return { items };
    },
  );

  app.get(
    '/vouchers',
    {
      config: { roles: PROVIDER_ROLES },
      schema: {
        tags: ['billing'],
        operationId: 'listVouchers',
        summary: 'Vouchers issued by the operator (all) or by this reseller',
        querystring: Type.Object({
          redeemed: Type.Optional(Type.Boolean()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(VoucherItem) }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { redeemed, limit = 100 } = request.query;
      const rows = await prisma.voucher.findMany({
        where: {
          ...(principal.role === 'reseller' ? { resellerId: principal.resellerId } : {}),
          ...(redeemed === undefined ? {} : { redeemedAt: redeemed ? { not: null } : null }),
        },
        orderBy: { createdAt: 'desc' },
        take: limit,
        select: columns,
      });
      return { items: rows.map(toItem) };
    },
  );

  app.post(
    '/vouchers/redeem',
    {
      config: { roles: ['operator', 'reseller', 'customer'] },
      schema: {
        tags: ['billing'],
        operationId: 'redeemVoucher',
        summary: 'Redeem a voucher code onto a prepaid balance',
        description:
          'A customer redeems onto its own balance; a provider names the customer. An unknown, used or expired code is 404; too many failed attempts are 429.',
        body: Type.Object(
          {
            code: Type.String({ minLength: 16, maxLength: 40 }),
            customerId: Type.Optional(Uuid),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ topUp: Type.Unknown(), balance: Type.String() }) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const wait = failures.retryAfter(principal.userId);
      if (wait > 0) throw tooManyRequests(wait, 'Too many failed voucher codes, try again later');
      const customerId = principal.role === 'customer' ? principal.customerId! : request.body.customerId;
      if (!customerId)
        throw badRequest('Name the customer to credit', [{ field: '/body/customerId', message: 'required' }]);
      const result = await prisma.$transaction(async (tx) => {
        const customer = await visibleCustomer(tx, principal, customerId);
        // The voucher names the credit account it went to: the first redemption opens it.
        await tx.$executeRawUnsafe(
          'INSERT INTO credit_accounts (customer_id, updated_at) VALUES ($1::uuid, now()) ON CONFLICT DO NOTHING',
          customerId,
        );
        // Single use: only one transaction's UPDATE finds the voucher unredeemed.
        const [voucher] = await tx.$queryRawUnsafe<Array<{ id: string; amount: string }>>(
          `UPDATE vouchers SET redeemed_at = now(), redeemed_by = $2::uuid
            WHERE code_hash = $1 AND redeemed_at IS NULL AND (expires_at IS NULL OR expires_at > now())
              AND (reseller_id IS NULL OR reseller_id = $3::uuid)
            RETURNING id, amount::text AS amount`,
          voucherHash(request.body.code),
          customerId,
          customer.resellerId,
        );
        if (!voucher) return undefined;
        const topUp = await creditBalance(
          tx,
          { customerId, micros: parseMicros(voucher.amount)!, kind: 'voucher', userId: principal.userId },
          { voucherId: voucher.id },
        );
        await writeAudit(tx, request, {
          action: 'redeem',
          entity: 'vouchers',
          entityId: voucher.id,
          after: topUp,
        });
        return { topUp: topUpItem(topUp), balance: topUp.balanceAfter.toFixed(6) };
      });
      if (!result) {
        failures.hit(principal.userId);
        throw notFound('Voucher');
      }
      reply.code(201);
      return result;
    },
  );
}
