import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topUpLines } from '../src/billing/invoices/lines.ts';
import { formatMicros, parseMicros } from '../src/billing/money.ts';
import { startRater } from '../src/billing/rater.ts';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * Credit notes over the API on PostgreSQL (docs/billing.md, "Credit notes"): customer A's November
 * invoice (6.00 net at 20 %: 7.20) credited in part and for the rest, each note with its own number
 * and PDF (read back with pdftotext), the tax taken out at the invoice's rate and the notes adding up
 * to the invoice's net and tax exactly; never more than the invoice, also when two notes race; a
 * prepaid customer's balance credited; bad input naming the field; each tenant sees only its own.
 */

const run = promisify(execFile);
let world: World;
let dir: string;
const invoices: Record<'A' | 'B', { id: string; number: string }> = {
  A: { id: '', number: '' },
  B: { id: '', number: '' },
};

const api = (actor: Actor, method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, body?: unknown) =>
  world.request(actor, method, `/api/v1${url}`, body);

async function pdfText(pdf: Buffer): Promise<string> {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.pdf`);
  await writeFile(file, pdf);
  const { stdout } = await run('pdftotext', ['-layout', file, '-'], { timeout: 30_000 });
  return stdout;
}

async function addCdr(customerId: string, subscriberId: string, at: string, seconds: number) {
  const startedAt = new Date(at);
  await world.prisma.cdr.create({
    data: {
      callId: `cn-${customerId}-${at}`,
      direction: 'outbound',
      callerDialled: '+4311001',
      calleeDialled: '4930123456',
      calleeRouted: '4930123456',
      startedAt,
      answeredAt: startedAt,
      endedAt: new Date(startedAt.getTime() + seconds * 1000),
      durationMs: seconds * 1000,
      disposition: 'answered',
      callerSubscriberId: subscriberId,
      callerCustomerId: customerId,
    },
  });
}

beforeAll(async () => {
  world = await createWorld('credit_notes');
  dir = await mkdtemp(path.join(tmpdir(), 'credit-notes-'));
  const profile = await api('operator', 'POST', '/billing-profiles', {
    name: 'Retail',
    kind: 'sell',
    currency: 'EUR',
  });
  const profileId = profile.json().id;
  // 0.01 per second, by the second.
  await api('operator', 'POST', `/billing-profiles/${profileId}/decks/import`, {
    csv: 'prefix,zone,peak_rate,first_interval,next_interval\n49,Germany,0.60,1,1',
    effectiveFrom: '2026-01-01T00:00:00Z',
    apply: true,
  });
  const { cA, cB, sA, sB } = world.ids;
  for (const c of [cA, cB])
    await api('operator', 'PATCH', `/customers/${c}`, { billingProfileId: profileId });
  const settings = { creditLimit: null, carrier: false, marginProtection: null, peeringGroupIds: [] };
  await api('resellerA', 'PUT', `/customers/${cA}/billing-settings`, {
    ...settings,
    taxRate: '20',
    taxId: 'ATU1',
  });
  await api('resellerA', 'PUT', '/invoice-template', { companyName: 'Reseller A Telecom', taxId: 'ATU9' });
  await addCdr(cA, sA, '2026-11-02T09:00:00Z', 600);
  await addCdr(cB, sB, '2026-11-03T09:00:00Z', 100);
  // B is prepaid (its invoice has no tax: neither it nor its issuer has a rate).
  await world.prisma.creditAccount.create({ data: { customerId: cB, prepaid: true, balance: '2' } });
  const rater = await startRater(world.db, pino({ level: 'silent' }), { poll: false });
  await rater.drain();
  await rater.stop();
  expect(
    (await api('operator', 'POST', '/invoices/generate', { month: '2026-11' })).json().created,
  ).toHaveLength(2);
  for (const [key, actor] of [
    ['A', 'customerA'],
    ['B', 'customerB'],
  ] as const)
    invoices[key] = (await api(actor, 'GET', '/invoices')).json().items[0];
}, 120_000);

afterAll(async () => {
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('credit notes', () => {
  it('refuses bad input naming the field, and tenants that may not issue one', async () => {
    const url = `/invoices/${invoices.A.id}/credit-notes`;
    for (const [body, field] of [
      [{ reason: 'x' }, '/body/amount'],
      [{ reason: 'x', amount: '1', full: true }, '/body/amount'],
      [{ reason: 'x', amount: '1,5' }, '/body/amount'],
      [{ reason: 'x', amount: '0' }, '/body/amount'],
      [{ reason: 'x', amount: '7.200001' }, '/body/amount'],
      [{ reason: '', full: true }, '/body/reason'],
      [{ reason: 'x', full: true, creditBalance: true }, '/body/creditBalance'],
    ] as const) {
      const bad = await api('resellerA', 'POST', url, body);
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
      expect(bad.headers['content-type']).toContain('application/problem+json');
      expect(bad.json().errors[0].field, JSON.stringify(body)).toBe(field);
    }
    expect((await api('customerA', 'POST', url, { reason: 'x', full: true })).statusCode).toBe(403);
    expect((await api('resellerB', 'POST', url, { reason: 'x', full: true })).statusCode).toBe(404);
    expect(await world.prisma.creditNote.count()).toBe(0);
  });

  it('credits part of an invoice with the tax taken out at its rate, with its own number and PDF', async () => {
    const invoice = (await api('operator', 'GET', `/invoices/${invoices.A.id}`)).json();
    expect(invoice).toMatchObject({ net: '6.000000', tax: '1.200000', total: '7.200000' });
    const res = await api('resellerA', 'POST', `/invoices/${invoices.A.id}/credit-notes`, {
      amount: '1.000001',
      reason: 'Dropped calls on 2 November',
    });
    expect(res.statusCode).toBe(201);
    const note = res.json();
    // 1.000001 x 20 / 120 = 0.1666668333: half up to 0.166667.
    expect(note).toMatchObject({
      number: `CN-${new Date().getUTCFullYear()}-000001`,
      invoiceNumber: invoices.A.number,
      total: '1.000001',
      tax: '0.166667',
      net: '0.833334',
      taxRate: '20.00',
      balanceCredited: false,
    });
    const pdf = await api('customerA', 'GET', `/credit-notes/${note.id}/pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    const text = await pdfText(pdf.rawPayload);
    expect(text).toContain(`Credit note ${note.number}`);
    expect(text).toContain(`Credits invoice: ${invoices.A.number}`);
    expect(text).toContain('Reason: Dropped calls on 2 November');
    expect(text).toContain('VAT ID: ATU9');
    expect(text).toContain('Customer VAT ID: ATU1');
    expect(text).toMatch(/^\s*Tax 20\.00%\s+-0\.166667\s*$/m);
    expect(text).toMatch(/^\s*Total credited\s+-1\.000001 EUR\s*$/m);
  });

  it('never credits more than the invoice, also when two notes race; the rest reverses net and tax exactly', async () => {
    const url = `/invoices/${invoices.A.id}/credit-notes`;
    // 6.199999 is left: two notes of 4.00 at once, only one fits.
    const raced = await Promise.all(
      [0, 1].map(() => api('operator', 'POST', url, { amount: '4', reason: 'race' })),
    );
    expect(raced.map((r) => r.statusCode).sort()).toEqual([201, 400]);
    const rest = await api('operator', 'POST', url, { full: true, reason: 'Contract ended' });
    expect(rest.statusCode).toBe(201);
    expect(rest.json().total).toBe('2.199999');
    const notes = (await api('operator', 'GET', `/credit-notes?invoiceId=${invoices.A.id}`)).json().items;
    expect(notes).toHaveLength(3);
    const sum = (key: 'net' | 'tax' | 'total') =>
      formatMicros(notes.reduce((s: number, n: Record<string, string>) => s + parseMicros(n[key]!)!, 0));
    expect([sum('net'), sum('tax'), sum('total')]).toEqual(['6.000000', '1.200000', '7.200000']);
    // Numbered in their own gapless sequence (the refused one took none).
    expect(notes.map((n: { number: string }) => n.number.slice(-6)).sort()).toEqual([
      '000001',
      '000002',
      '000003',
    ]);
    expect((await api('operator', 'GET', `/invoices/${invoices.A.id}`)).json().credited).toBe('7.200000');
    const more = await api('operator', 'POST', url, { full: true, reason: 'again' });
    expect(more.statusCode).toBe(400);
    expect(more.json().errors[0].field).toBe('/body/amount');
  });

  it("credits a prepaid customer's balance, not as bought credit", async () => {
    const balance = async () =>
      (await api('customerB', 'GET', `/customers/${world.ids.cB}/credit`)).json().balance;
    // 2.00 less the 1.00 the rater debited for B's call.
    expect(await balance()).toBe('1.000000');
    const res = await api('resellerB', 'POST', `/invoices/${invoices.B.id}/credit-notes`, {
      full: true,
      reason: 'Goodwill',
      creditBalance: true,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      total: '1.000000',
      tax: '0.000000',
      taxRate: '0.00',
      balanceCredited: true,
    });
    expect(await balance()).toBe('2.000000');
    const topUps = (await api('customerB', 'GET', `/customers/${world.ids.cB}/credit/top-ups`)).json().items;
    // Credit credited back was not bought: no top-up line on the next invoice.
    const day = 86_400_000;
    const scope = {
      customerId: world.ids.cB,
      currency: 'EUR',
      from: new Date(Date.now() - day),
      to: new Date(Date.now() + day),
    };
    expect(await topUpLines.lines(world.prisma, scope)).toEqual([]);
    expect(topUps[0]).toMatchObject({
      kind: 'credit_note',
      amount: '1.000000',
      note: `Credit note ${res.json().number}`,
    });
  });

  it('shows each tenant only its own credit notes', async () => {
    const ofA = (await api('customerA', 'GET', '/credit-notes')).json();
    expect(ofA.total).toBe(3);
    expect(ofA.items.every((n: { customerId: string }) => n.customerId === world.ids.cA)).toBe(true);
    const ofB = (await api('customerB', 'GET', '/credit-notes')).json().items;
    expect(ofB.map((n: { customerId: string }) => n.customerId)).toEqual([world.ids.cB]);
    expect((await api('resellerB', 'GET', '/credit-notes')).json().items).toHaveLength(1);
    expect((await api('resellerA', 'GET', '/credit-notes')).json().total).toBe(3);
    expect((await api('operator', 'GET', '/credit-notes')).json().total).toBe(4);
    const a = ofA.items[0].id;
    for (const actor of ['customerB', 'resellerB'] as const) {
      expect((await api(actor, 'GET', `/credit-notes/${a}`)).statusCode).toBe(404);
      expect((await api(actor, 'GET', `/credit-notes/${a}/pdf`)).statusCode).toBe(404);
      expect((await api(actor, 'GET', `/credit-notes?customerId=${world.ids.cA}`)).json().total).toBe(0);
    }
  });
});
