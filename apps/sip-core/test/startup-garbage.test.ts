import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { collectStartupGarbage, compactingCollection } from '../src/startup-garbage.ts';

/**
 * The collection after start-up compacts: what the loads leave alive is spread over every page they
 * touched, and only a compacting collection gives those pages back (a plain full GC frees only the
 * pages left empty, so the heap would keep its size).
 */
describe('collectStartupGarbage', () => {
  it('gives back the pages that survivors were scattered over', () => {
    // What the heap holds before (other test files share this process) is left out of the sums.
    compactingCollection();
    const base = process.memoryUsage().heapTotal;
    // One object in ten survives, as index entries survive the rows they were built from.
    const survivors: { id: number; name: string }[] = [];
    let rows: { id: number; name: string }[] | undefined = [];
    for (let i = 0; i < 1_500_000; i++) {
      const row = { id: i, name: `user${i}` };
      if (i % 10 === 0) survivors.push(row);
      else rows.push(row);
    }
    rows = undefined;
    const grown = process.memoryUsage().heapTotal;
    const events: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => events.push(JSON.parse(line)) });

    collectStartupGarbage(log);

    const after = process.memoryUsage();
    expect(survivors).toHaveLength(150_000);
    // The survivors take a few MB; uncompacted they would pin about as many pages as the loads grew.
    expect(after.heapTotal - base).toBeLessThan((grown - base) / 2);
    expect(events.find((event) => event.msg === 'start-up garbage collected')).toMatchObject({
      heapTotalMB: Math.round(after.heapTotal / 2 ** 20),
    });
  });
});
