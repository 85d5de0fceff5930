import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRater } from '../src/billing/rater.ts';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * Billing over the API: profiles with peak times, deck import (dry run, row errors, apply, export that
 * imports again), links to customers, resellers and peering groups, re-rating, and who sees which price.
 * Customer A (reseller A) calls out through the carrier group; customer B's call has no profile.
 */

let world: World;
let sellId: string;
let wholesaleId: string;
let costId: string;

const api = (actor: Actor, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  world.request(actor, method, `/api/v1${url}`, body);

const DECK = [
  'prefix,zone,setup_fee,peak_rate,off_peak_rate,first_interval,next_interval',
  '43,Austria,0,0.10,0.05,60,60',
  '4366,Austria mobile,0.01,0.30,0.20,60,60',
].join('\n');

beforeAll(async () => {
  world = await createWorld('billing');
});
afterAll(async () => {
  await world?.close();
});

describe('billing profiles', () => {
  it('creates profiles and names the bad field', async () => {
    const bad = await api('operator', 'POST', '/billing-profiles', {
      name: 'x',
      kind: 'sell',
      currency: 'EUR',
      timeZone: 'Mars/Olympus',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('/body/timeZone');
    const badPeak = await api('operator', 'POST', '/billing-profiles', {
      name: 'x',
      kind: 'sell',
      currency: 'EUR',
      peakTimes: [{ weekday: 1, startMinute: 600, endMinute: 500 }],
    });
    expect(badPeak.statusCode).toBe(400);
    expect(badPeak.json().errors[0].field).toBe('/body/peakTimes/0/endMinute');

    const sell = await api('operator', 'POST', '/billing-profiles', {
      name: 'Retail',
      kind: 'sell',
      currency: 'EUR',
      timeZone: 'Europe/Vienna',
      peakTimes: [{ weekday: null, startMinute: 480, endMinute: 1080 }],
    });
    expect(sell.statusCode).toBe(201);
    expect(sell.json().peakTimes).toEqual([{ weekday: null, startMinute: 480, endMinute: 1080 }]);
    sellId = sell.json().id;
    wholesaleId = (
      await api('operator', 'POST', '/billing-profiles', { name: 'Wholesale', kind: 'sell', currency: 'EUR' })
    ).json().id;
    costId = (
      await api('operator', 'POST', '/billing-profiles', { name: 'Carrier', kind: 'cost', currency: 'EUR' })
    ).json().id;
    expect(
      (await api('resellerA', 'POST', '/billing-profiles', { name: 'Mine', kind: 'sell', currency: 'EUR' }))
        .statusCode,
    ).toBe(403);
  });

  it('imports a deck: dry run with row errors, then applied, exported and imported again', async () => {
    const withErrors = await api('operator', 'POST', `/billing-profiles/${sellId}/decks/import`, {
      csv: `${DECK}\n44,UK,0,abc,,60,60\n45,DK,0,0.1,,60,0`,
      effectiveFrom: '2026-01-01T00:00:00Z',
      apply: true,
    });
    expect(withErrors.statusCode).toBe(200);
    expect(withErrors.json()).toMatchObject({
      applied: false,
      rows: 4,
      valid: 2,
      errors: [
        { row: 4, column: 'peak_rate' },
        { row: 5, column: 'next_interval' },
      ],
    });
    const dry = await api('operator', 'POST', `/billing-profiles/${sellId}/decks/import`, {
      csv: DECK,
      effectiveFrom: '2026-01-01T00:00:00Z',
    });
    expect(dry.json()).toMatchObject({ applied: false, rows: 2, valid: 2, zones: 2, errors: [] });
    expect((await api('operator', 'GET', `/billing-profiles/${sellId}/decks`)).json().items).toEqual([]);

    const applied = await api('operator', 'POST', `/billing-profiles/${sellId}/decks/import`, {
      csv: DECK,
      effectiveFrom: '2026-01-01T00:00:00Z',
      name: 'January',
      apply: true,
    });
    expect(applied.json()).toMatchObject({ applied: true, deck: { version: 1, rowCount: 2 } });
    const deckId = applied.json().deck.id;
    const exported = await api(
      'operator',
      'GET',
      `/billing-profiles/${sellId}/decks/${deckId}/rates?format=csv`,
    );
    expect(exported.headers['content-type']).toMatch(/text\/csv/);
    expect(exported.body).toContain('4366,Austria mobile,0.010000,0.300000,0.200000,60,60,,');
    const again = await api('operator', 'POST', `/billing-profiles/${sellId}/decks/import`, {
      csv: exported.body,
      effectiveFrom: '2026-01-01T00:00:00Z',
    });
    expect(again.json()).toMatchObject({ rows: 2, valid: 2, errors: [] });
    const zones = await api('operator', 'GET', `/billing-profiles/${sellId}/decks/${deckId}/zones`);
    expect(zones.json()).toEqual([
      expect.objectContaining({ zone: 'Austria', prefixes: 1, maxPeakRate: '0.100000' }),
      expect.objectContaining({ zone: 'Austria mobile', prefixes: 1, minOffPeakRate: '0.200000' }),
    ]);
    for (const [id, csv] of [
      [wholesaleId, 'prefix,zone,peak_rate\n43,Austria,0.04'],
      [costId, 'prefix,zone,peak_rate,first_interval,next_interval\n43,Austria,0.012,1,1'],
    ] as const) {
      const r = await api('operator', 'POST', `/billing-profiles/${id}/decks/import`, {
        csv,
        effectiveFrom: '2026-01-01T00:00:00Z',
        apply: true,
      });
      expect(r.json().applied).toBe(true);
    }
  });

  it('links profiles of the right kind, set by the operator only', async () => {
    const wrongKind = await api('operator', 'PATCH', `/peering-groups/${world.ids.pg}`, {
      costProfileId: sellId,
    });
    expect(wrongKind.statusCode).toBe(400);
    expect(wrongKind.json().errors[0].field).toBe('/body/costProfileId');
    expect(
      (await api('resellerA', 'PATCH', `/customers/${world.ids.cA}`, { billingProfileId: sellId }))
        .statusCode,
    ).toBe(403);
    expect(
      (await api('operator', 'PATCH', `/customers/${world.ids.cA}`, { billingProfileId: sellId })).statusCode,
    ).toBe(200);
    expect(
      (await api('operator', 'PATCH', `/resellers/${world.ids.rA}`, { billingProfileId: wholesaleId }))
        .statusCode,
    ).toBe(200);
    expect(
      (await api('operator', 'PATCH', `/peering-groups/${world.ids.pg}`, { costProfileId: costId }))
        .statusCode,
    ).toBe(200);
    // A profile in use is not deleted from under its customers.
    expect((await api('operator', 'DELETE', `/billing-profiles/${sellId}?force=true`)).statusCode).toBe(409);
  });

  it('shows a tenant only the profiles linked to it', async () => {
    const names = async (actor: Actor) =>
      (await api(actor, 'GET', '/billing-profiles')).json().items.map((p: { name: string }) => p.name);
    expect(await names('operator')).toEqual(['Carrier', 'Retail', 'Wholesale']);
    expect(await names('resellerA')).toEqual(['Retail', 'Wholesale']);
    expect(await names('customerA')).toEqual(['Retail']);
    expect(await names('customerB')).toEqual([]);
    expect(await names('resellerB')).toEqual([]);
    expect((await api('customerB', 'GET', `/billing-profiles/${sellId}`)).statusCode).toBe(404);
    expect((await api('resellerB', 'GET', `/billing-profiles/${sellId}/decks`)).statusCode).toBe(404);
    expect((await api('customerA', 'GET', `/billing-profiles/${costId}/decks`)).statusCode).toBe(404);
    expect((await api('customerA', 'GET', `/billing-profiles/${sellId}/decks`)).json().items).toHaveLength(1);
  });
});

describe('rated CDRs', () => {
  it('are priced by the rater and show each tenant only its own prices', async () => {
    // Customer A's call goes to an Austrian mobile through the carrier; B's customer has no profile.
    await world.prisma.cdr.update({
      where: { id: world.ids.cdrA },
      data: { calleeRouted: '436641234567', peerGatewayId: world.ids.gw, calleeCustomerId: world.ids.cB },
    });
    const rater = await startRater(world.db, pino({ level: 'silent' }), { poll: false });
    await rater.drain();
    await rater.stop();
    const read = async (actor: Actor, id: string) => (await api(actor, 'GET', `/cdrs/${id}`)).json();

    // 60 s at 0.30/min peak (11:00 in Vienna) + 0.01 setup; wholesale 0.04; carrier 60 s at 0.012/min.
    expect(await read('operator', world.ids.cdrA)).toMatchObject({
      ratingStatus: 'rated',
      customerPrice: '0.310000',
      customerZone: 'Austria mobile',
      resellerPrice: '0.040000',
      carrierCost: '0.012000',
      carrierCurrency: 'EUR',
    });
    expect(await read('resellerA', world.ids.cdrA)).toMatchObject({
      customerPrice: '0.310000',
      resellerPrice: '0.040000',
      carrierCost: null,
      carrierZone: null,
    });
    expect(await read('customerA', world.ids.cdrA)).toMatchObject({
      customerPrice: '0.310000',
      resellerPrice: null,
      carrierCost: null,
    });
    // B is the callee of A's call: it sees the call, not what A pays.
    expect(await read('customerB', world.ids.cdrA)).toMatchObject({
      customerPrice: null,
      resellerPrice: null,
    });
    const list = await api('customerA', 'GET', '/cdrs?format=csv');
    expect(list.body.split('\r\n')[0]).toContain('customerPrice');
    expect(list.body).not.toContain('0.012000');
    // B's own call: no profile linked, so rated without prices.
    expect(await read('operator', world.ids.cdrB)).toMatchObject({
      ratingStatus: 'rated',
      customerPrice: null,
    });
  });

  it('re-rates a period on the operator’s request only', async () => {
    const body = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', customerId: world.ids.cA };
    expect((await api('resellerA', 'POST', '/rating/rerate', body)).statusCode).toBe(403);
    const bad = await api('operator', 'POST', '/rating/rerate', { ...body, to: '2025-01-01T00:00:00Z' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('/body/to');
    const r = await api('operator', 'POST', '/rating/rerate', body);
    expect(r.json()).toEqual({ marked: 1 });
    expect((await api('operator', 'GET', `/cdrs/${world.ids.cdrA}`)).json().ratingStatus).toBe('unrated');
    const rater = await startRater(world.db, pino({ level: 'silent' }), { poll: false });
    expect(await rater.drain()).toBe(1);
    await rater.stop();
    const cdr = await world.prisma.cdr.findUniqueOrThrow({ where: { id: world.ids.cdrA } });
    expect(cdr.ratingCount).toBe(2);
    expect(cdr.customerPrice?.toFixed(6)).toBe('0.310000');
  });
});
