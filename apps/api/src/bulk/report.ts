import { Type } from 'typebox';
import { RowError, type RowErrorShape } from './csv.ts';

/** What an import did or, in a dry run, would do: one entry per data row plus the row errors. */

export const RowAction = Type.Enum(['create', 'update', 'unchanged', 'error']);
export type RowActionValue = 'create' | 'update' | 'unchanged' | 'error';

export const ImportReport = Type.Object({
  applied: Type.Boolean({ description: 'True when the changes were written; false for a dry run or errors' }),
  counts: Type.Object({
    create: Type.Integer(),
    update: Type.Integer(),
    unchanged: Type.Integer(),
    error: Type.Integer(),
  }),
  rows: Type.Array(
    Type.Object({
      row: Type.Integer({ description: 'Line of the file, header = 1' }),
      key: Type.String({ description: 'What the row names: user@domain or the E.164 number' }),
      action: RowAction,
      changes: Type.Array(Type.String(), { description: 'Columns whose value would change' }),
    }),
  ),
  errors: Type.Array(RowError),
});

export const ImportBody = (maxChars: number) =>
  Type.Object(
    {
      csv: Type.String({ minLength: 1, maxLength: maxChars, description: 'The CSV text, header line first' }),
      apply: Type.Optional(
        Type.Boolean({
          default: false,
          description:
            'false (default): dry run, nothing is written. true: write, only if no row has an error',
        }),
      ),
    },
    { additionalProperties: false },
  );

export interface PlannedRow {
  row: number;
  key: string;
  action: RowActionValue;
  changes: string[];
}

export function reportOf(rows: readonly PlannedRow[], errors: readonly RowErrorShape[], applied: boolean) {
  const counts = { create: 0, update: 0, unchanged: 0, error: 0 };
  for (const r of rows) counts[r.action] += 1;
  return { applied, counts, rows: [...rows], errors: [...errors] };
}
