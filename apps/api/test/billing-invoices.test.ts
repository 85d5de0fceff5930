import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInvoiceJob } from '../src/billing/invoices/job.ts';
import { formatMicros, parseMicros } from '../src/billing/money.ts';
import { startRater } from '../src/billing/rater.ts';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * Postpaid invoices over the API on PostgreSQL: customer A's November calls rated by the rater, the
 * month's invoices run (twice: idempotent), the PDF read back with pdftotext (poppler-utils): its net
 * compared with the sum of A's rated CDRs, the tax at the reseller's default rate and at B's own rate,
 * gross and total with the top-ups, the tax ids; who may list and download which invoice, the
 * letterhead with a logo, and the CSV export of a period's rated CDRs.
 */

const run = promisify(execFile);
let world: World;
let dir: string;

const api = (
  actor: Actor,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
) => world.request(actor, method, `/api/v1${url}`, body);

/** A 1x1 PNG. */
const LOGO =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** Per-second rates, so the prices have six decimals and every call a different price. */
const DECK = [
  'prefix,zone,setup_fee,peak_rate,first_interval,next_interval',
  '43,Austria,0.0015,0.0123,1,1',
  '49,Germany,0,0.0217,1,1',
].join('\n');

async function pdfText(pdf: Buffer): Promise<string> {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.pdf`);
  await writeFile(file, pdf);
  const { stdout } = await run('pdftotext', ['-layout', file, '-'], { timeout: 30_000 });
  return stdout;
}

async function addCdr(customerId: string, subscriberId: string, callee: string, at: string, seconds: number) {
  const startedAt = new Date(at);
  await world.prisma.cdr.create({
    data: {
      callId: `inv-${callee}-${at}`,
      direction: 'outbound',
      callerDialled: '+4311001',
      calleeDialled: callee,
      calleeRouted: callee,
      startedAt,
      answeredAt: startedAt,
      endedAt: new Date(startedAt.getTime() + seconds * 1000),
      durationMs: seconds * 1000,
      disposition: seconds > 0 ? 'answered' : 'no_answer',
      callerSubscriberId: subscriberId,
      callerCustomerId: customerId,
    },
  });
}

beforeAll(async () => {
  world = await createWorld('invoices');
  dir = await mkdtemp(path.join(tmpdir(), 'invoices-'));
  const profile = await api('operator', 'POST', '/billing-profiles', {
    name: 'Postpaid',
    kind: 'sell',
    currency: 'EUR',
  });
  const profileId = profile.json().id;
  const imported = await api('operator', 'POST', `/billing-profiles/${profileId}/decks/import`, {
    csv: DECK,
    effectiveFrom: '2026-01-01T00:00:00Z',
    apply: true,
  });
  expect(imported.json().applied).toBe(true);
  for (const c of [world.ids.cA, world.ids.cB])
    expect(
      (await api('operator', 'PATCH', `/customers/${c}`, { billingProfileId: profileId })).statusCode,
    ).toBe(200);
  const { cA, cB, sA, sB } = world.ids;
  await addCdr(cA, sA, '+431234567', '2026-11-02T09:00:00Z', 67);
  await addCdr(cA, sA, '431234568', '2026-11-15T12:30:00Z', 181);
  await addCdr(cA, sA, '4930123456', '2026-11-20T18:00:00Z', 43);
  await addCdr(cA, sA, '4930123457', '2026-11-30T23:59:00Z', 0);
  await addCdr(cA, sA, '431111111', '2026-12-01T00:00:00Z', 600); // December: not on November's invoice
  await addCdr(cB, sB, '431234569', '2026-11-10T10:00:00Z', 30);
  // A's prepaid credit bought in November (two kinds) and one top-up in December, not on the invoice.
  await world.prisma.creditAccount.create({ data: { customerId: cA, prepaid: true, balance: '18.5' } });
  for (const [kind, amount, at] of [
    ['operator', '10', '2026-11-03T08:00:00Z'],
    ['voucher', '5.5', '2026-11-21T16:00:00Z'],
    ['operator', '3', '2026-12-01T00:00:00Z'],
  ] as const)
    await world.prisma.creditTopUp.create({
      data: { customerId: cA, kind, amount, balanceAfter: amount, createdAt: new Date(at) },
    });
  const rater = await startRater(world.db, pino({ level: 'silent' }), { poll: false });
  await rater.drain();
  await rater.stop();
}, 120_000);

afterAll(async () => {
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The sum of the customer's rated prices of November, straight from the CDRs. */
async function ratedSum(customerId: string): Promise<string> {
  const rows = await world.prisma.$queryRawUnsafe<{ sum: string }[]>(
    `SELECT coalesce(sum(customer_price), 0)::text AS sum FROM cdrs
      WHERE caller_customer_id = $1::uuid AND started_at >= '2026-11-01Z' AND started_at < '2026-12-01Z'
        AND rating_status = 'rated'`,
    customerId,
  );
  return formatMicros(parseMicros(rows[0]!.sum)!);
}

describe('invoices', () => {
  it('sets a letterhead with a logo; rejects a logo that is not an image', async () => {
    const bad = await api('resellerA', 'PUT', '/invoice-template', {
      companyName: 'Reseller A Telecom',
      logo: 'aGVsbG8=',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('/body/logo');
    const ok = await api('resellerA', 'PUT', '/invoice-template', {
      companyName: 'Reseller A Telecom',
      address: 'Ring 1, Vienna',
      footer: 'Payable within 14 days',
      logo: LOGO,
      taxId: 'ATU99999999',
      defaultTaxRate: '20',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      resellerId: world.ids.rA,
      logoType: 'image/png',
      taxId: 'ATU99999999',
      defaultTaxRate: '20.00',
    });
    expect((await api('customerA', 'PUT', '/invoice-template', { companyName: 'x' })).statusCode).toBe(403);
    expect((await api('resellerB', 'GET', '/invoice-template')).statusCode).toBe(404);
  });

  it("sets a customer's tax rate and tax id; rejects a rate that is not a percent, naming the field", async () => {
    const settings = { creditLimit: null, carrier: false, marginProtection: null, peeringGroupIds: [] };
    for (const [field, url, body] of [
      ['/body/taxRate', `/customers/${world.ids.cB}/billing-settings`, { ...settings, taxRate: '100.01' }],
      ['/body/taxRate', `/customers/${world.ids.cB}/billing-settings`, { ...settings, taxRate: '7.125' }],
      ['/body/defaultTaxRate', '/invoice-template', { companyName: 'B', defaultTaxRate: '-1' }],
    ] as const) {
      const bad = await api('resellerB', 'PUT', url, body);
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
      expect(bad.headers['content-type']).toContain('application/problem+json');
      expect(bad.json().errors[0].field).toBe(field);
    }
    // A's rate is its reseller's default (20.00); B has its own.
    const a = await api('resellerA', 'PUT', `/customers/${world.ids.cA}/billing-settings`, {
      ...settings,
      taxId: 'ATU12345678',
    });
    expect(a.json()).toMatchObject({ taxRate: null, taxId: 'ATU12345678' });
    const b = await api('resellerB', 'PUT', `/customers/${world.ids.cB}/billing-settings`, {
      ...settings,
      taxRate: '10.5',
    });
    expect(b.json()).toMatchObject({ taxRate: '10.50', taxId: null });
    // Another reseller's customer stays out of reach.
    expect(
      (
        await api('resellerB', 'PUT', `/customers/${world.ids.cA}/billing-settings`, {
          ...settings,
          taxRate: '0',
        })
      ).statusCode,
    ).toBe(404);
  });

  it('runs a month once: only the operator, not a month that has not ended', async () => {
    expect((await api('resellerA', 'POST', '/invoices/generate', { month: '2026-11' })).statusCode).toBe(403);
    const future = await api('operator', 'POST', '/invoices/generate', { month: '2099-01' });
    expect(future.statusCode).toBe(400);
    expect(future.json().errors[0].field).toBe('/body/month');
    const first = await api('operator', 'POST', '/invoices/generate', { month: '2026-11' });
    expect(first.statusCode).toBe(200);
    expect(first.json().created).toHaveLength(2);
    const again = await api('operator', 'POST', '/invoices/generate', { month: '2026-11' });
    expect(again.json()).toEqual({ created: [], skipped: 0 });
    // The monthly job (billing component) finds nothing left to do for November either.
    const job = startInvoiceJob(world.prisma, pino({ level: 'silent' }), {
      now: () => new Date('2026-12-05T00:00:00Z'),
    });
    expect(await job.runOnce()).toBe(0);
    await job.stop();
    expect(await world.prisma.invoice.count()).toBe(2);
  });

  it("a PDF's net is the sum of the customer's rated CDRs, with the tax at its rate, gross, and the top-ups", async () => {
    const list = await api('customerA', 'GET', '/invoices');
    expect(list.json().total).toBe(1);
    const invoice = list.json().items[0];
    expect(invoice.number).toMatch(/^\d{4}-\d{6}$/);
    const calls = parseMicros(await ratedSum(world.ids.cA))!;
    // 20 % of the net, rounded half up to a millionth once per invoice (computed here on its own).
    const tax = Number((BigInt(calls) * 20n + 50n) / 100n);
    const gross = calls + tax;
    const expected = formatMicros(gross + parseMicros('15.5')!);
    expect(invoice).toMatchObject({
      net: formatMicros(calls),
      tax: formatMicros(tax),
      taxes: [{ rate: '20.00', base: formatMicros(calls), amount: formatMicros(tax) }],
      customerTaxId: 'ATU12345678',
      issuerTaxId: 'ATU99999999',
      total: expected,
      credited: '0.000000',
    });
    expect(
      invoice.lines.map((l: { description: string; taxed: boolean }) => [l.description, l.taxed]),
    ).toEqual([
      ['Austria', true],
      ['Germany', true],
      ['Credit top-ups (operator)', false],
      ['Credit top-ups (voucher)', false],
    ]);
    const pdf = await api('customerA', 'GET', `/invoices/${invoice.id}/pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    const text = await pdfText(pdf.rawPayload);
    expect(text).toContain('Reseller A Telecom');
    expect(text).toContain(`Invoice ${invoice.number}`);
    expect(text).toContain('VAT ID: ATU99999999');
    expect(text).toContain('Customer VAT ID: ATU12345678');
    const amountOf = (label: RegExp) => {
      const m = new RegExp(`^\\s*${label.source}\\s+(-?\\d+\\.\\d+)(?:\\s+EUR)?\\s*$`, 'm').exec(text);
      expect(m, `${label.source} in\n${text}`).not.toBeNull();
      return formatMicros(parseMicros(m![1]!)!);
    };
    expect(amountOf(/Net/)).toBe(formatMicros(calls));
    expect(amountOf(/Tax 20\.00% on \d+\.\d+/)).toBe(formatMicros(tax));
    expect(amountOf(/Gross/)).toBe(formatMicros(gross));
    expect(amountOf(/Total/)).toBe(expected);
    // The lines on paper add up to the total as well.
    const lineAmounts = [...text.matchAll(/^\s*(Austria|Germany)\s+\d+\s+[\d.]+\s+(\d+\.\d+)\s*$/gm)].map(
      (m) => parseMicros(m[2]!)!,
    );
    expect(lineAmounts).toHaveLength(2);
    expect(formatMicros(lineAmounts.reduce((a, b) => a + b, 0))).toBe(formatMicros(calls));
    const topUps = [...text.matchAll(/^\s*Credit top-ups \((operator|voucher)\)\s+1\s+(\d+\.\d+)\s*$/gm)];
    expect(topUps.map((m) => [m[1], formatMicros(parseMicros(m[2]!)!)])).toEqual([
      ['operator', '10.000000'],
      ['voucher', '5.500000'],
    ]);
  });

  it('shows each tenant only its own invoices', async () => {
    const ofA = (await api('operator', 'GET', `/invoices?customerId=${world.ids.cA}`)).json().items[0];
    const ofB = (await api('customerB', 'GET', '/invoices')).json().items;
    expect(ofB).toHaveLength(1);
    expect(ofB[0].customerId).toBe(world.ids.cB);
    // B's own rate of 10.50 %: its invoice has no top-ups, so the total is its gross.
    const netB = parseMicros(await ratedSum(world.ids.cB))!;
    const taxB = Number((BigInt(netB) * 1050n + 5000n) / 10000n);
    expect(ofB[0]).toMatchObject({
      net: formatMicros(netB),
      tax: formatMicros(taxB),
      total: formatMicros(netB + taxB),
    });
    expect(ofB[0].taxes).toEqual([{ rate: '10.50', base: formatMicros(netB), amount: formatMicros(taxB) }]);
    expect((await api('customerB', 'GET', `/invoices/${ofA.id}`)).statusCode).toBe(404);
    expect((await api('customerB', 'GET', `/invoices/${ofA.id}/pdf`)).statusCode).toBe(404);
    expect((await api('resellerB', 'GET', `/invoices/${ofA.id}/pdf`)).statusCode).toBe(404);
    expect(
      (await api('resellerB', 'GET', '/invoices'))
        .json()
        .items.map((i: { customerId: string }) => i.customerId),
    ).toEqual([world.ids.cB]);
    expect((await api('resellerA', 'GET', `/invoices/${ofA.id}/pdf`)).statusCode).toBe(200);
    expect((await api('operator', 'GET', '/invoices')).json().total).toBe(2);
  });

  it("exports a period's rated CDRs as CSV", async () => {
    const csv = await api(
      'customerA',
      'GET',
      '/cdrs?format=csv&ratingStatus=rated&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z',
    );
    expect(csv.statusCode).toBe(200);
    const [head, ...rows] = csv.body.trim().split('\r\n');
    const column = head!.split(',').indexOf('customerPrice');
    expect(rows).toHaveLength(4);
    const sum = rows.reduce(
      (total, row) => total + (parseMicros(row.split(',')[column]!.replaceAll('"', '')) ?? 0),
      0,
    );
    expect(formatMicros(sum)).toBe(await ratedSum(world.ids.cA));
  });
});
