import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MIGRATIONS_DIR } from '../src/migrations.ts';

export { createTestDatabase, type TestDatabase } from '../src/testing.ts';

export async function tempDir(label: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `switchboard-db-${label}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A writable copy of the committed migrations, to add or alter migrations in a test. */
export async function copyMigrations(targetDir: string): Promise<string> {
  const dir = path.join(targetDir, 'migrations');
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}
