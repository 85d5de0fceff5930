import { describe, expect, it } from 'vitest';
import { parseDeck } from '../src/billing/deck-csv.ts';
import { formatMicros, parseMicros } from '../src/billing/money.ts';
import { isPeak, LocalClock } from '../src/billing/peak.ts';
import { type DeckRate, RatingPlan } from '../src/billing/plan.ts';
import { PrefixTrie } from '../src/billing/prefix-trie.ts';
import { billedSeconds, type CdrToRate, charge, destinationOf, rateCdr } from '../src/billing/rate-cdr.ts';

/** The pure parts of billing: money, prefix match, intervals, peak times, deck parsing, rating. */

const rate = (prefix: string, zone: string, peak: string, extra: Partial<DeckRate> = {}): DeckRate => ({
  prefix,
  zone,
  setupMicros: 0,
  peakMicros: parseMicros(peak)!,
  offPeakMicros: parseMicros(peak)!,
  firstInterval: 60,
  nextInterval: 60,
  effectiveFrom: null,
  effectiveTo: null,
  ...extra,
});

describe('money', () => {
  it('parses and prints decimals exactly', () => {
    expect(parseMicros('0.0123')).toBe(12_300);
    expect(parseMicros('12')).toBe(12_000_000);
    expect(parseMicros('0.1234567')).toBeUndefined();
    expect(parseMicros('1e3')).toBeUndefined();
    expect(formatMicros(12_300)).toBe('0.012300');
    expect(formatMicros(-1)).toBe('-0.000001');
    // 0.1 + 0.2 is exact in micros.
    expect(formatMicros(parseMicros('0.1')! + parseMicros('0.2')!)).toBe('0.300000');
  });
});

describe('prefix trie', () => {
  it('finds the longest prefix and falls back past rejected values', () => {
    const trie = new PrefixTrie<string>();
    trie.set('', 'world');
    trie.set('43', 'austria');
    trie.set('436', 'austria mobile');
    trie.set('43664', 'a1 mobile');
    expect(trie.longest('4366412345')).toBe('a1 mobile');
    expect(trie.longest('436991234')).toBe('austria mobile');
    expect(trie.longest('4312345')).toBe('austria');
    expect(trie.longest('1555')).toBe('world');
    expect(trie.longest('4366412345', (v) => v !== 'a1 mobile')).toBe('austria mobile');
    expect(trie.size).toBe(4);
  });
});

describe('intervals', () => {
  it('charges the first interval, then whole next intervals', () => {
    expect(billedSeconds(0, 60, 60)).toBe(0);
    expect(billedSeconds(1, 60, 60)).toBe(60);
    expect(billedSeconds(61, 60, 60)).toBe(120);
    expect(billedSeconds(61, 1, 1)).toBe(61);
    expect(billedSeconds(31, 30, 6)).toBe(36);
    expect(billedSeconds(37, 30, 6)).toBe(42);
  });
  it('adds the setup fee and rounds half up once per call', () => {
    const r = rate('1', 'x', '0.01', { setupMicros: 50_000, firstInterval: 1, nextInterval: 1 });
    // 0.01/min for 7 s = 0.0011666.. -> 0.001167, plus 0.05 setup
    expect(formatMicros(charge(r, 7, true))).toBe('0.051167');
  });
});

describe('peak times', () => {
  it('reads the start in the profile time zone', () => {
    const clock = new LocalClock('Europe/Vienna');
    const weekdays = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, startMinute: 8 * 60, endMinute: 18 * 60 }));
    // Friday 2026-12-04 07:30 UTC = 08:30 in Vienna (CET): peak.
    expect(isPeak(clock, weekdays, Date.parse('2026-12-04T07:30:00Z'))).toBe(true);
    // 17:30 UTC = 18:30 Vienna: off-peak.
    expect(isPeak(clock, weekdays, Date.parse('2026-12-04T17:30:00Z'))).toBe(false);
    // Saturday.
    expect(isPeak(clock, weekdays, Date.parse('2026-12-05T09:00:00Z'))).toBe(false);
    // Summer time: 06:30 UTC on a July Monday is 08:30 in Vienna.
    expect(isPeak(clock, weekdays, Date.parse('2026-07-06T06:30:00Z'))).toBe(true);
    expect(clock.local(Date.parse('2026-07-06T06:47:00Z'))).toEqual({ weekday: 1, minute: 8 * 60 + 47 });
  });
});

describe('deck CSV', () => {
  it('reports every bad row with its line and column', () => {
    const csv = [
      'prefix,zone,setup_fee,peak_rate,off_peak_rate,first_interval,next_interval,effective_from',
      '43,Austria,0,0.02,0.01,60,60,2026-01-01',
      '43x,Bad prefix,0,0.02,,60,60,',
      '44,UK,0,-1,,60,60,',
      '45,DK,0,0.02,,0,60,',
      '43,Duplicate,0,0.02,,60,60,',
      '46,SE,0,0.0200001,,60,60,not-a-date',
    ].join('\n');
    const deck = parseDeck(csv);
    expect(deck.rows).toBe(6);
    expect(deck.rates.map((r) => r.prefix)).toEqual(['43']);
    expect(deck.errors).toEqual([
      { row: 3, column: 'prefix', message: expect.stringContaining('digits') },
      { row: 4, column: 'peak_rate', message: 'must not be negative' },
      { row: 5, column: 'first_interval', message: expect.stringContaining('1 to') },
      { row: 6, column: 'prefix', message: 'prefix also on row 2' },
      { row: 7, column: 'peak_rate', message: expect.stringContaining('6 decimals') },
      { row: 7, column: 'effective_from', message: expect.stringContaining('date') },
    ]);
    expect(deck.rates[0]).toMatchObject({
      peakMicros: 20_000,
      offPeakMicros: 10_000,
      effectiveFrom: Date.parse('2026-01-01T00:00:00Z'),
    });
  });
  it('refuses unknown and missing columns as a whole', () => {
    expect(() => parseDeck('prefix,zone,price\n43,A,1')).toThrow(
      /unknown columns: price; missing columns: peak_rate/,
    );
  });
});

describe('rateCdr', () => {
  const plan = new RatingPlan();
  plan.addProfile({ id: 'sell', name: 'Retail', currency: 'EUR', timeZone: 'UTC', peak: [] });
  plan.addProfile({ id: 'wholesale', name: 'Wholesale', currency: 'EUR', timeZone: 'UTC', peak: [] });
  plan.addProfile({ id: 'carrier', name: 'Carrier', currency: 'USD', timeZone: 'UTC', peak: [] });
  const jan = Date.parse('2026-01-01T00:00:00Z');
  const jun = Date.parse('2026-06-01T00:00:00Z');
  plan.addDeckVersion('sell', { id: 's1', version: 1, effectiveFrom: jan });
  plan.addDeckVersion('sell', { id: 's2', version: 2, effectiveFrom: jun });
  plan.addDeckVersion('wholesale', { id: 'w1', version: 1, effectiveFrom: jan });
  plan.addDeckVersion('carrier', { id: 'k1', version: 1, effectiveFrom: jan });
  plan.setDeckRates('s1', [rate('43', 'Austria', '0.10'), rate('43664', 'A1 mobile', '0.30')]);
  plan.setDeckRates('s2', [rate('43', 'Austria', '0.05')]);
  plan.setDeckRates('w1', [rate('43', 'Austria', '0.04')]);
  plan.setDeckRates('k1', [rate('43', 'Austria', '0.01', { firstInterval: 1, nextInterval: 1 })]);
  plan.accounts.customers.set('c', { profileId: 'sell', resellerId: 'r' });
  plan.accounts.resellers.set('r', 'wholesale');
  plan.accounts.gateways.set('gw', 'carrier');

  const cdr = (extra: Partial<CdrToRate> = {}): CdrToRate => ({
    id: 'x',
    direction: 'outbound',
    answered: true,
    startedAt: Date.parse('2026-03-01T12:00:00Z'),
    durationMs: 90_500,
    calleeDialled: '066412345',
    calleeRouted: '+4366412345',
    callerCustomerId: 'c',
    peerGatewayId: 'gw',
    ...extra,
  });

  it('prices all three sides with their own deck', () => {
    const r = rateCdr(plan, cdr());
    expect(r.status).toBe('rated');
    expect(r.number).toBe('4366412345');
    // 91 s billed 120 s at 0.30/min
    expect(r.customer).toEqual({ micros: 600_000, currency: 'EUR', zone: 'A1 mobile' });
    expect(r.reseller).toEqual({ micros: 80_000, currency: 'EUR', zone: 'Austria' });
    // 91 s at 0.01/min per second
    expect(r.carrier).toEqual({ micros: 15_167, currency: 'USD', zone: 'Austria' });
  });
  it('uses the deck version in effect at the start', () => {
    const r = rateCdr(plan, cdr({ startedAt: Date.parse('2026-07-01T00:00:00Z') }));
    expect(r.customer?.micros).toBe(100_000);
  });
  it('flags a call without a zone, keeping the sides that priced', () => {
    const r = rateCdr(plan, cdr({ calleeRouted: '+15551234' }));
    expect(r.status).toBe('unrateable');
    expect(r.error).toContain('no zone of profile Retail matches 15551234');
    expect(r.customer).toBeNull();
  });
  it('flags a call before any deck', () => {
    const r = rateCdr(plan, cdr({ startedAt: Date.parse('2025-06-01T00:00:00Z') }));
    expect(r.status).toBe('unrateable');
    expect(r.error).toContain('no rate deck in effect');
  });
  it('charges nothing for unanswered calls and leaves unlinked sides empty', () => {
    expect(rateCdr(plan, cdr({ answered: false, durationMs: 0 })).customer).toEqual({
      micros: 0,
      currency: 'EUR',
      zone: null,
    });
    const inbound = rateCdr(plan, cdr({ direction: 'inbound', callerCustomerId: null }));
    expect(inbound).toMatchObject({ status: 'rated', customer: null, reseller: null, carrier: null });
  });
  it('reads the destination from a SIP or tel URI', () => {
    expect(destinationOf({ calleeDialled: 'x', calleeRouted: 'sip:+4311002@b.example.com;user=phone' })).toBe(
      '4311002',
    );
    expect(destinationOf({ calleeDialled: 'sip:bob@b.example.com', calleeRouted: null })).toBeNull();
  });
});
