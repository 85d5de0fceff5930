import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * Prepaid credit over the API (docs/billing.md, "Prepaid", "Vouchers", "Fraud limits"): top-ups by the
 * operator and the customer's reseller with their history, vouchers issued by a reseller and redeemed
 * once by its customer, spend limits, and that no customer or reseller reaches another's credit.
 */

let world: World;
const api = (actor: Actor, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  world.request(actor, method, `/api/v1${url}`, body);

beforeAll(async () => {
  world = await createWorld('credit');
});
afterAll(async () => {
  await world?.close();
});

describe('balances and top-ups', () => {
  it('the operator and the reseller top up exactly; the history keeps the balance after each', async () => {
    const { cA } = world.ids;
    const first = await api('operator', 'POST', `/customers/${cA}/credit/top-ups`, {
      amount: '5.10',
      note: 'welcome',
    });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ kind: 'operator', amount: '5.100000', balanceAfter: '5.100000' });
    const second = await api('resellerA', 'POST', `/customers/${cA}/credit/top-ups`, { amount: '0.000001' });
    expect(second.json()).toMatchObject({ kind: 'reseller', balanceAfter: '5.100001' });
    const credit = await api('customerA', 'GET', `/customers/${cA}/credit`);
    expect(credit.json()).toMatchObject({ balance: '5.100001', reserved: '0.000000', prepaid: false });
    const history = await api('customerA', 'GET', `/customers/${cA}/credit/top-ups`);
    expect(history.json().items.map((t: { balanceAfter: string }) => t.balanceAfter)).toEqual([
      '5.100001',
      '5.100000',
    ]);
  });

  it('refuses a bad amount naming the field, and a customer topping itself up', async () => {
    const { cA } = world.ids;
    for (const amount of ['0', '1.0000001', '-3', 'ten']) {
      const res = await api('operator', 'POST', `/customers/${cA}/credit/top-ups`, { amount });
      expect(res.statusCode, amount).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().errors[0].field).toBe('/body/amount');
    }
    expect(
      (await api('customerA', 'POST', `/customers/${cA}/credit/top-ups`, { amount: '1' })).statusCode,
    ).toBe(403);
  });

  it('keeps every customer to its own credit', async () => {
    const { cA, cB, sA } = world.ids;
    for (const [actor, url] of [
      ['customerB', `/customers/${cA}/credit`],
      ['customerB', `/customers/${cA}/credit/top-ups`],
      ['customerB', `/customers/${cA}/credit/events`],
      ['resellerB', `/customers/${cA}/credit`],
      ['resellerB', `/customers/${cA}/credit/top-ups`],
      ['customerA', `/customers/${cB}/credit`],
      ['customerB', `/subscribers/${sA}/spend-limit`],
      ['resellerB', `/subscribers/${sA}/spend-limit`],
    ] as const)
      expect((await api(actor, 'GET', url)).statusCode, `${actor} ${url}`).toBe(404);
    expect(
      (await api('resellerB', 'POST', `/customers/${cA}/credit/top-ups`, { amount: '1' })).statusCode,
    ).toBe(404);
    expect((await api('resellerB', 'PATCH', `/customers/${cA}/credit`, { prepaid: true })).statusCode).toBe(
      404,
    );
    expect(
      (await api('resellerB', 'PATCH', `/subscribers/${sA}/spend-limit`, { dailyLimit: '1' })).statusCode,
    ).toBe(404);
    expect((await api('customerA', 'GET', `/customers/${cA}/credit`)).statusCode).toBe(200);
  });

  it('sets prepaid and spend limits; a customer may set only its threshold and e-mail', async () => {
    const { cA, sA } = world.ids;
    const set = await api('resellerA', 'PATCH', `/customers/${cA}/credit`, {
      prepaid: true,
      dailyLimit: '20',
      limitWarnPercent: 75,
    });
    expect(set.json()).toMatchObject({ prepaid: true, dailyLimit: '20.000000', limitWarnPercent: 75 });
    const own = await api('customerA', 'PATCH', `/customers/${cA}/credit`, {
      lowBalanceThreshold: '2',
      notifyEmail: 'money@a.example',
    });
    expect(own.json()).toMatchObject({ lowBalanceThreshold: '2.000000', notifyEmail: 'money@a.example' });
    const refused = await api('customerA', 'PATCH', `/customers/${cA}/credit`, { dailyLimit: '1000' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().errors[0].field).toBe('/body/dailyLimit');
    const hook = await api('operator', 'PATCH', `/customers/${cA}/credit`, {
      webhookUrl: 'ftp://x.example/',
    });
    expect(hook.statusCode).toBe(400);
    expect(hook.json().errors[0].field).toBe('/body/webhookUrl');
    const limit = await api('resellerA', 'PATCH', `/subscribers/${sA}/spend-limit`, { monthlyLimit: '30.5' });
    expect(limit.json()).toMatchObject({ monthlyLimit: '30.500000', dailyLimit: null });
    expect(
      (await api('customerA', 'PATCH', `/subscribers/${sA}/spend-limit`, { dailyLimit: '1' })).statusCode,
    ).toBe(403);
  });
});

describe('vouchers', () => {
  it('a reseller issues codes shown once and stored hashed; its customer redeems one once', async () => {
    const { cA } = world.ids;
    const issued = await api('resellerA', 'POST', '/vouchers', { amount: '2.50', count: 2 });
    expect(issued.statusCode, issued.body).toBe(201);
    const [one, two] = issued.json().items as Array<{ id: string; code: string; codeHint: string }>;
    expect(one!.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    expect(one!.code).not.toBe(two!.code);
    const stored = await world.prisma.voucher.findUniqueOrThrow({ where: { id: one!.id } });
    expect(JSON.stringify(stored)).not.toContain(one!.code.replace(/-/g, ''));
    expect(stored.codeHint).toBe(one!.code.slice(-4));
    // Listing never shows a code again.
    const list = await api('resellerA', 'GET', '/vouchers');
    expect(JSON.stringify(list.json())).not.toContain(one!.code);
    expect((await api('resellerB', 'GET', '/vouchers')).json().items).toEqual([]);

    const before = (await api('customerA', 'GET', `/customers/${cA}/credit`)).json().balance;
    const redeemed = await api('customerA', 'POST', '/vouchers/redeem', { code: one!.code.toLowerCase() });
    expect(redeemed.statusCode, redeemed.body).toBe(201);
    const expected = (Math.round(Number(before) * 1e6) + 2_500_000) / 1e6;
    expect(redeemed.json().balance).toBe(expected.toFixed(6));
    expect(redeemed.json().topUp).toMatchObject({ kind: 'voucher', voucherId: one!.id, amount: '2.500000' });
    // Single use.
    expect((await api('customerA', 'POST', '/vouchers/redeem', { code: one!.code })).statusCode).toBe(404);
    // Another reseller's customer cannot use reseller A's voucher.
    expect((await api('customerB', 'POST', '/vouchers/redeem', { code: two!.code })).statusCode).toBe(404);
    expect((await world.prisma.voucher.findUniqueOrThrow({ where: { id: two!.id } })).redeemedAt).toBeNull();
  });

  it('limits failed codes per user (429) so codes cannot be guessed', async () => {
    let last = 0;
    for (let i = 0; i < 11; i++)
      last = (
        await api('customerB', 'POST', '/vouchers/redeem', {
          code: `ZZZZ-ZZZZ-ZZZZ-${String(i).padStart(4, '0')}`,
        })
      ).statusCode;
    expect(last).toBe(429);
  });

  it('two redemptions of one code at once credit it once', async () => {
    const { cA } = world.ids;
    const [voucher] = (await api('operator', 'POST', '/vouchers', { amount: '1' })).json().items;
    const results = await Promise.all([
      api('customerA', 'POST', '/vouchers/redeem', { code: voucher.code }),
      api('operator', 'POST', '/vouchers/redeem', { code: voucher.code, customerId: cA }),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 404]);
    expect(await world.prisma.creditTopUp.count({ where: { voucherId: voucher.id } })).toBe(1);
  });
});
