import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { Type } from 'typebox';
import { badRequest } from '../errors.ts';

/**
 * CSV in and out for bulk import/export. Parsing is csv-parse (RFC 4180 quoting, a BOM from spreadsheet
 * exports is dropped); rows are numbered by the file line they end on, header = line 1, so an error names
 * the row a spreadsheet shows.
 */

/** Rows one import may carry: a whole import runs in one transaction. */
export const MAX_IMPORT_ROWS = 2000;
/** Characters of CSV text one import may carry (about 1 MiB of ASCII). */
export const MAX_IMPORT_CHARS = 1_048_576;

export const RowError = Type.Object({
  row: Type.Integer({ description: 'Line of the file, header = 1' }),
  column: Type.String({ description: 'Column name, or empty for the whole row' }),
  message: Type.String(),
});
export type RowErrorShape = { row: number; column: string; message: string };

export interface CsvRow {
  row: number;
  values: Record<string, string>;
}

/** A failure of one row, named by column; collected into the import's report rather than thrown out. */
export class RowProblem extends Error {
  constructor(
    readonly column: string,
    message: string,
  ) {
    super(message);
    this.name = 'RowProblem';
  }
}

/**
 * Parses CSV text with a header line. Unknown columns and missing required ones are refused as a whole
 * (400 naming them), so a misspelt header never silently drops a field from every row.
 */
export function parseCsv(text: string, known: readonly string[], required: readonly string[]): CsvRow[] {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim()),
      bom: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      max_record_size: 64 * 1024,
      to_line: MAX_IMPORT_ROWS + 2,
    });
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    const line = (err as CsvError & { lines?: number }).lines;
    throw badRequest(`Not valid CSV${line === undefined ? '' : ` (line ${line})`}: ${err.message}`, [
      { field: '/body/csv', message: err.message },
    ]);
  }
  const header = Object.keys(records[0]?.record ?? {});
  if (records.length === 0) {
    throw badRequest('The file has no data rows', [
      { field: '/body/csv', message: 'expected a header and rows' },
    ]);
  }
  if (records.length > MAX_IMPORT_ROWS) {
    throw badRequest(`At most ${MAX_IMPORT_ROWS} rows per import`, [
      { field: '/body/csv', message: `more than ${MAX_IMPORT_ROWS} rows` },
    ]);
  }
  const unknown = header.filter((h) => !known.includes(h));
  const missing = required.filter((r) => !header.includes(r));
  if (unknown.length > 0 || missing.length > 0) {
    const parts = [
      ...(unknown.length > 0 ? [`unknown column(s) ${unknown.join(', ')}`] : []),
      ...(missing.length > 0 ? [`missing column(s) ${missing.join(', ')}`] : []),
    ];
    throw badRequest(`The header has ${parts.join(' and ')}; expected ${known.join(', ')}`, [
      { field: '/body/csv', message: parts.join('; ') },
    ]);
  }
  return records.map((r) => ({ row: r.info.lines, values: r.record }));
}

export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  return stringify(
    rows.map((r) => columns.map((c) => cell(r[c]))),
    { header: true, columns: [...columns] },
  );
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value);
}

/** Empty cell = not given. */
export function optional(values: Record<string, string>, column: string): string | undefined {
  const v = values[column];
  return v === undefined || v === '' ? undefined : v;
}

export function required(values: Record<string, string>, column: string): string {
  const v = optional(values, column);
  if (v === undefined) throw new RowProblem(column, 'required');
  return v;
}

export function booleanCell(values: Record<string, string>, column: string): boolean | undefined {
  const v = optional(values, column)?.toLowerCase();
  if (v === undefined) return undefined;
  if (['true', 'yes', '1'].includes(v)) return true;
  if (['false', 'no', '0'].includes(v)) return false;
  throw new RowProblem(column, 'expected true or false');
}

export function integerCell(values: Record<string, string>, column: string, max: number): number | undefined {
  const v = optional(values, column);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) > max) throw new RowProblem(column, `expected a whole number 0-${max}`);
  return Number(v);
}
