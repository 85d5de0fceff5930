// Generates the Prisma client into src/generated/prisma (run by `postinstall`).
//
// `prisma generate` does not execute the native schema engine, but the CLI insists on finding
// one and tries to download it when it is missing. Pointing PRISMA_SCHEMA_ENGINE_BINARY at any
// existing file satisfies that check, so generation works offline and on machines where the
// engine binaries cannot be fetched. An engine configured by the user is left alone.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(packageDir, 'package.json'));
const prismaCli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
const result = spawnSync(process.execPath, [prismaCli, 'generate'], {
  cwd: packageDir,
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
