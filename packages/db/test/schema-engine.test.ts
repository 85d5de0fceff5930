import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, MIGRATIONS_DIR } from '../src/migrations.ts';
import {
  migrationTimestamp,
  openSchemaEngine,
  type SchemaFile,
  writeMigration,
} from '../src/schema-engine.ts';
import { pgliteConnection } from '../src/sql.ts';
import { readGeneratedModel } from './generated-model.ts';
import { copyMigrations, tempDir } from './helpers.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const schemaPath = path.join(packageDir, 'prisma/schema.prisma');
const loadSchema = async (): Promise<SchemaFile> => ({
  path: 'schema.prisma',
  content: await readFile(schemaPath, 'utf8'),
});

describe('generated client', () => {
  it('was generated from the current schema.prisma (else run `pnpm --filter @switchboard/db generate`)', async () => {
    const { inlineSchema } = await readGeneratedModel();
    expect(inlineSchema).toBe(await readFile(schemaPath, 'utf8'));
  });
});

describe('schema engine (WebAssembly) and migration:new', () => {
  let scratch: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    scratch = await tempDir('schema-engine');
  });
  afterAll(async () => {
    await scratch.remove();
  });

  it('generates the whole schema from nothing, and nothing on top of the committed migrations', async () => {
    const engine = await openSchemaEngine(await loadSchema());
    try {
      const fromNothing = await engine.createMigration('init', path.join(scratch.dir, 'empty'));
      expect(fromNothing?.name).toMatch(/^\d{14}_init$/);
      // Every table of the schema is created, so the engine saw the whole schema.
      for (const table of ['subscribers', 'numbers', 'registrations', 'cdrs', 'peering_groups', 'ip_bans']) {
        expect(fromNothing?.script).toContain(`CREATE TABLE "${table}"`);
      }
      // The committed migrations cover schema.prisma exactly: a schema change without its migration fails
      // here. (The hand-written trigger migration is invisible to Prisma's diff.)
      expect(await engine.createMigration('nothing', MIGRATIONS_DIR)).toBeNull();
    } finally {
      await engine.close();
    }
  }, 300_000);

  it('writes a new migration for a schema change, which the runner then applies', async () => {
    const schema = await loadSchema();
    const changed = schema.content.replace(
      /^(\s*clir\s+Boolean\s+@default\(false\))$/m,
      '$1\n  voicemailEnabled Boolean @default(false) @map("voicemail_enabled")',
    );
    expect(changed).not.toBe(schema.content);
    const migrationsDir = await copyMigrations(scratch.dir);
    const engine = await openSchemaEngine({ ...schema, content: changed });
    let written: string;
    try {
      const migration = await engine.createMigration('add_voicemail', migrationsDir);
      expect(migration).not.toBeNull();
      expect(migration!.script).toContain(
        'ALTER TABLE "subscribers" ADD COLUMN     "voicemail_enabled" BOOLEAN NOT NULL DEFAULT false;',
      );
      written = await writeMigration(migrationsDir, migration!);
    } finally {
      await engine.close();
    }
    expect(path.basename(path.dirname(written))).toMatch(/^\d{14}_add_voicemail$/);

    const db = await PGlite.create();
    try {
      const result = await applyMigrations(pgliteConnection(db), { migrationsDir });
      expect(result.applied.at(-1)).toBe(path.basename(path.dirname(written)));
      const columns = await db.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'subscribers' AND column_name = 'voicemail_enabled'`,
      );
      expect(columns.rows).toHaveLength(1);
    } finally {
      await db.close();
    }
  }, 300_000);

  it('runs as the `migration:new` script and rejects names that are not folder-safe', async () => {
    // The engine path of the script is covered above; this checks the script's own argument handling
    // without paying for another engine start.
    const run = promisify(execFile);
    const tsx = path.join(packageDir, 'node_modules/.bin/tsx');
    for (const bad of ['bad name!', '../escape', '']) {
      await expect(run(tsx, ['src/cli/migration-new.ts', bad], { cwd: packageDir })).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining('usage: migration:new <name>'),
      });
    }
  });

  it('names migrations like Prisma: UTC yyyymmddhhmmss', () => {
    expect(migrationTimestamp(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('20260102030405');
  });
});
