import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../src/dockerfile.ts';

describe('parseDockerfile', () => {
  it('joins continuation lines, drops comments and keeps line numbers', () => {
    const parsed = parseDockerfile('# c\nFROM a:1 AS b\n\nRUN x \\\n  # inside\n  y\nuser node\n');
    expect(parsed).toEqual([
      { keyword: 'FROM', args: 'a:1 AS b', line: 2 },
      { keyword: 'RUN', args: 'x y', line: 4 },
      { keyword: 'USER', args: 'node', line: 7 },
    ]);
  });
});
