// The workspace packages that have a test script: what `pnpm test` runs and the summary adds up.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** `{ name, dir, path }` of every package under apps/ and packages/ with a `test` script. */
export function testedPackages() {
  const found = [];
  for (const group of ['apps', 'packages']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const folder of readdirSync(groupDir)) {
      const manifest = join(groupDir, folder, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      if (pkg.scripts?.test)
        found.push({ name: pkg.name, dir: join(groupDir, folder), path: `${group}/${folder}` });
    }
  }
  return found;
}
