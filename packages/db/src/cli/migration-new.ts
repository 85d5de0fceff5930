/**
 * `pnpm db:migration:new <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql with
 * the SQL that takes a database from the committed migrations to the current schema.prisma.
 * Same result as `prisma migrate dev --create-only --name <name>`, without a database server or
 * the native schema engine. Review the file, then commit it with the schema change.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIGRATIONS_DIR } from '../migrations.ts';
import { openSchemaEngine, writeMigration } from '../schema-engine.ts';

const SCHEMA_PATH = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));

async function main(): Promise<number> {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9_]+$/i.test(name)) {
    console.error('usage: migration:new <name>   (letters, digits and underscores, e.g. add_voicemail)');
    return 2;
  }
  const migrationsDir = process.env.MIGRATIONS_DIR ?? MIGRATIONS_DIR;
  const schema = { path: 'schema.prisma', content: await readFile(SCHEMA_PATH, 'utf8') };
  const engine = await openSchemaEngine(
    schema,
    process.env.SCHEMA_ENGINE_DEBUG ? (line) => console.error(line) : undefined,
  );
  try {
    const migration = await engine.createMigration(name, migrationsDir);
    if (!migration) {
      console.log('schema.prisma matches the committed migrations; no migration written');
      return 0;
    }
    const file = await writeMigration(migrationsDir, migration);
    console.log(`wrote ${path.relative(process.cwd(), file)} (schema engine ${engine.version})`);
    return 0;
  } finally {
    await engine.close();
  }
}

process.exitCode = await main();
