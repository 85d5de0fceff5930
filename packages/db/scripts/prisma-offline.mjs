// Runs the Prisma CLI commands that need no database engine (`generate`, `format`, `validate`)
// on machines where Prisma's native engine binaries cannot be downloaded.
//
// These commands never execute the native schema engine, but the CLI insists on finding one and
// tries to download it when it is missing. Pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing
// file satisfies that check. An engine configured by the user is left alone. Commands that do
// need the engine (`migrate ...`, `db ...`) are refused here: use the plain Prisma CLI for those.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const OFFLINE_COMMANDS = new Set(['generate', 'format', 'validate']);
const [command, ...args] = process.argv.slice(2);
if (!OFFLINE_COMMANDS.has(command ?? '')) {
  console.error(`usage: prisma-offline.mjs ${[...OFFLINE_COMMANDS].join('|')} [prisma options]`);
  process.exit(2);
}

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(packageDir, 'package.json'));
const prismaCli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
const result = spawnSync(process.execPath, [prismaCli, command, ...args], {
  cwd: packageDir,
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
