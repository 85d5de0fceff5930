import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/client.ts';
import { EmbeddedDatabaseLock } from '../src/embedded-lock.ts';
import { tempDir } from './helpers.ts';

describe('embedded database lock', () => {
  let scratch: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    scratch = await tempDir('lock');
  });
  afterAll(async () => {
    await scratch.remove();
  });

  it('admits one holder at a time and records its pid', async () => {
    const file = path.join(scratch.dir, 'one.lock');
    const lock = await EmbeddedDatabaseLock.acquire(file);
    expect((await readFile(file, 'utf8')).trim()).toBe(String(process.pid));
    await expect(EmbeddedDatabaseLock.acquire(file)).rejects.toThrow(/in use by process \d+ \(this one\)/);
    await lock.release();
    const again = await EmbeddedDatabaseLock.acquire(file);
    await again.release();
  });

  it('takes over a lock left behind by a process that is gone', async () => {
    const file = path.join(scratch.dir, 'stale.lock');
    // Above the kernel's pid limit, so no such process can exist.
    await writeFile(file, '2147483646\n');
    const lock = await EmbeddedDatabaseLock.acquire(file);
    expect((await readFile(file, 'utf8')).trim()).toBe(String(process.pid));
    await lock.release();
  });

  it('keeps a second openDatabase off an embedded database that is open', async () => {
    const dataDir = path.join(scratch.dir, 'data');
    const db = await openDatabase({ dataDir });
    try {
      await expect(openDatabase({ dataDir })).rejects.toThrow(/embedded database is in use/);
    } finally {
      await db.close();
    }
    // Released on close: the folder opens again.
    const reopened = await openDatabase({ dataDir });
    await reopened.close();
  }, 120_000);

  it('can keep a private database in memory', async () => {
    const db = await openDatabase({ dataDir: path.join(scratch.dir, 'unused'), inMemory: true });
    try {
      expect(db.kind).toBe('pglite');
      await db.migrate();
      await db.prisma.peeringGroup.create({ data: { name: 'carriers' } });
      expect(await db.prisma.peeringGroup.count()).toBe(1);
    } finally {
      await db.close();
    }
  }, 120_000);
});
