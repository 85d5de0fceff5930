/** Rows per page of a whole-table read: large enough to cost few round trips, small enough to stay young. */
export const PAGE_SIZE = 5000;

/**
 * Reads a whole table in pages ordered by id (keyset pagination: each page starts after the last
 * id of the one before), handing each row to `onRow`. A load of a million rows then never holds more
 * than one page of query results besides what `onRow` keeps, instead of the whole result set at once
 * (which grows the heap, and the process's resident memory, several times beyond what is kept).
 * `readPage(after, take)` reads up to `take` rows with an id greater than `after` (all from the
 * start when undefined), ordered by id. Returns how many rows were read.
 */
export async function readInPages<Row extends { id: string }>(
  readPage: (after: string | undefined, take: number) => Promise<Row[]>,
  onRow: (row: Row) => void,
  pageSize = PAGE_SIZE,
): Promise<number> {
  let after: string | undefined;
  let count = 0;
  for (;;) {
    const rows = await readPage(after, pageSize);
    for (const row of rows) onRow(row);
    count += rows.length;
    if (rows.length < pageSize) return count;
    after = rows[rows.length - 1]!.id;
  }
}
