import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { badRequest } from '../errors.ts';
import { formatMicros, parseMicros } from './money.ts';
import type { DeckRate } from './plan.ts';

/**
 * Rate decks as CSV: one row per destination prefix. The header names the columns (any order);
 * `prefix`, `zone` and `peak_rate` are required. Rows are numbered by the file line they end on
 * (header = 1), as in the bulk imports, so an error names the row a spreadsheet shows.
 */

export const DECK_COLUMNS = [
  'prefix',
  'zone',
  'setup_fee',
  'peak_rate',
  'off_peak_rate',
  'first_interval',
  'next_interval',
  'effective_from',
  'effective_to',
] as const;
const REQUIRED = ['prefix', 'zone', 'peak_rate'] as const;

/** Rows one deck may carry; a deck is written in one transaction. */
export const MAX_DECK_ROWS = 200_000;
/** Characters of CSV one import may carry (16 MiB). */
export const MAX_DECK_CHARS = 16 * 1024 * 1024;
/** Errors reported per import; a file with more is wrong throughout and the first ones say why. */
const MAX_ERRORS = 1000;
const MAX_INTERVAL = 3600;

export interface DeckRowError {
  row: number;
  column: string;
  message: string;
}

export interface ParsedDeck {
  rates: DeckRate[];
  errors: DeckRowError[];
  rows: number;
}

const PREFIX = /^\+?[0-9]{0,32}$/;

function interval(value: string | undefined, fallback: number): number | string {
  if (value === undefined || value === '') return fallback;
  if (!/^[0-9]{1,4}$/.test(value)) return 'must be whole seconds';
  const n = Number(value);
  return n >= 1 && n <= MAX_INTERVAL ? n : `must be 1 to ${MAX_INTERVAL} seconds`;
}

function amount(value: string | undefined, fallback: number | undefined): number | string | undefined {
  if (value === undefined || value === '') return fallback;
  const micros = parseMicros(value);
  if (micros === undefined) return 'must be a decimal amount with at most 6 decimals (e.g. 0.0125)';
  return micros < 0 ? 'must not be negative' : micros;
}

function instant(value: string | undefined): number | null | string {
  if (value === undefined || value === '') return null;
  if (!/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value))
    return 'must be a date (2026-01-31) or ISO 8601 time';
  const t = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isNaN(t) ? 'is not a valid date' : t;
}

function readRow(row: number, v: Record<string, string>, errors: DeckRowError[]): DeckRate | undefined {
  const before = errors.length;
  const fail = (column: string, message: string) => errors.push({ row, column, message });
  const prefix = v.prefix ?? '';
  if (!PREFIX.test(prefix)) fail('prefix', 'must be digits (E.164 without +), at most 32');
  const zone = v.zone ?? '';
  if (zone === '' || zone.length > 100) fail('zone', 'must be 1 to 100 characters');
  const setup = amount(v.setup_fee, 0);
  if (typeof setup === 'string') fail('setup_fee', setup);
  const peak = amount(v.peak_rate, undefined);
  if (typeof peak === 'string') fail('peak_rate', peak);
  else if (peak === undefined) fail('peak_rate', 'is required');
  const offPeak = amount(v.off_peak_rate, typeof peak === 'number' ? peak : 0);
  if (typeof offPeak === 'string') fail('off_peak_rate', offPeak);
  const first = interval(v.first_interval, 60);
  if (typeof first === 'string') fail('first_interval', first);
  const next = interval(v.next_interval, 60);
  if (typeof next === 'string') fail('next_interval', next);
  const from = instant(v.effective_from);
  if (typeof from === 'string') fail('effective_from', from);
  const to = instant(v.effective_to);
  if (typeof to === 'string') fail('effective_to', to);
  if (typeof from === 'number' && typeof to === 'number' && to <= from)
    fail('effective_to', 'must be after effective_from');
  if (errors.length > before) return undefined;
  return {
    prefix: prefix.replace(/^\+/, ''),
    zone,
    setupMicros: setup as number,
    peakMicros: peak as number,
    offPeakMicros: offPeak as number,
    firstInterval: first as number,
    nextInterval: next as number,
    effectiveFrom: from as number | null,
    effectiveTo: to as number | null,
  };
}

/**
 * Parses and checks a deck. A malformed file or header is a 400 naming the problem; a bad row is
 * collected with its row number and column, so a dry run lists every row to fix.
 */
export function parseDeck(text: string): ParsedDeck {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      bom: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      max_record_size: 4096,
      to_line: MAX_DECK_ROWS + 2,
    });
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    throw badRequest(`Not valid CSV: ${err.message}`, [{ field: '/body/csv', message: err.message }]);
  }
  const header = records.length > 0 ? Object.keys(records[0]!.record) : [];
  const unknown = header.filter((h) => !(DECK_COLUMNS as readonly string[]).includes(h));
  const missing = REQUIRED.filter((h) => records.length > 0 && !header.includes(h));
  if (unknown.length > 0 || missing.length > 0)
    throw badRequest(
      [
        unknown.length ? `unknown columns: ${unknown.join(', ')}` : '',
        missing.length ? `missing columns: ${missing.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; '),
      [{ field: '/body/csv', message: `columns are ${DECK_COLUMNS.join(', ')}` }],
    );
  if (records.length > MAX_DECK_ROWS)
    throw badRequest(`A deck has at most ${MAX_DECK_ROWS} rows`, [
      { field: '/body/csv', message: 'too many rows' },
    ]);
  const errors: DeckRowError[] = [];
  const rates: DeckRate[] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of records) {
    if (errors.length >= MAX_ERRORS) break;
    const rate = readRow(info.lines, record, errors);
    if (rate === undefined) continue;
    const earlier = seen.get(rate.prefix);
    if (earlier !== undefined) {
      errors.push({ row: info.lines, column: 'prefix', message: `prefix also on row ${earlier}` });
      continue;
    }
    seen.set(rate.prefix, info.lines);
    rates.push(rate);
  }
  return { rates, errors, rows: records.length };
}

const iso = (t: number | null) => (t === null ? '' : new Date(t).toISOString());

/** A deck as CSV, in the columns the import reads, so an export imports again unchanged. */
export function deckToCsv(rates: readonly DeckRate[]): string {
  return stringify(
    rates.map((r) => [
      r.prefix,
      r.zone,
      formatMicros(r.setupMicros),
      formatMicros(r.peakMicros),
      formatMicros(r.offPeakMicros),
      r.firstInterval,
      r.nextInterval,
      iso(r.effectiveFrom),
      iso(r.effectiveTo),
    ]),
    { header: true, columns: [...DECK_COLUMNS], record_delimiter: '\r\n' },
  );
}
