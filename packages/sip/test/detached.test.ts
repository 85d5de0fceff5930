import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { detached } from '../src/messages/index.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap bytes still used after keeping `keep(piece)` for 20,000 pieces cut from 1-KB texts. */
function heldBy(keep: (piece: string) => string): number {
  const kept: string[] = [];
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 20_000; i++) {
    const text = `Call-ID: ${i}-abcdefghijklmnop@127.0.0.1\r\nX-Pad: ${'x'.repeat(1000)}${i}\r\n`;
    kept.push(keep(text.slice(9, text.indexOf('\r\n'))));
  }
  gc();
  const used = process.memoryUsage().heapUsed - before;
  expect(kept).toHaveLength(20_000);
  return used;
}

describe('detached', () => {
  it('is the same text, short strings and characters beyond Latin-1 included', () => {
    expect(detached('abc')).toBe('abc');
    const long = 'a1b2c3d4e5f6g7h8@host.example';
    expect(detached(long)).toBe(long);
    expect(detached('"Zoë Ünicode 東京" <sip:z@x>')).toBe('"Zoë Ünicode 東京" <sip:z@x>');
  });

  it('keeps no part of the text it was cut from alive', () => {
    // A slice of 13 characters or more points into its parent: 20,000 of them keep ~20 MB of text.
    const sliced = heldBy((piece) => piece);
    const copied = heldBy(detached);
    expect(sliced).toBeGreaterThan(15_000_000);
    expect(copied).toBeLessThan(sliced / 4);
  });
});
