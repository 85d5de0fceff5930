import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '..', 'src');

/** The folders a layer's files import from (relative imports only). */
function importedFolders(folder: string): Set<string> {
  const folders = new Set<string>();
  for (const file of readdirSync(join(src, folder)).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(src, folder, file), 'utf8');
    for (const match of text.matchAll(/from '\.\.\/([a-z-]+)\//g)) if (match[1]) folders.add(match[1]);
  }
  return folders;
}

describe('folder layers', () => {
  it('syntax (charset, scanner, params, errors) is the ground floor: it imports no other folder', () => {
    expect([...importedFolders('syntax')]).toEqual([]);
  });

  it('collections (LruMap) serve every layer and import none', () => {
    expect([...importedFolders('collections')]).toEqual([]);
  });

  it('URIs build on syntax only, so messages may use URIs without a loop', () => {
    expect([...importedFolders('uri')]).toEqual(['syntax']);
    expect([...importedFolders('messages')].sort()).toEqual(['syntax', 'uri']);
  });
});
