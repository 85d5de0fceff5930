import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ObjectStorage } from './storage.ts';

/**
 * Runs `use` with a file of this host holding the object, for what reads files (the media endpoint plays a
 * path, sox converts one): the storage's own file when it keeps files, else a copy fetched into `spoolDir`
 * and removed afterwards. `use` gets undefined when there is no such object in remote storage.
 */
export async function withLocalCopy<T>(
  storage: ObjectStorage,
  key: string,
  spoolDir: string,
  use: (path: string | undefined) => Promise<T>,
): Promise<T> {
  const own = storage.fileOf(key);
  if (own !== undefined) return use(own);
  const object = await storage.get(key);
  if (!object) return use(undefined);
  await mkdir(spoolDir, { recursive: true, mode: 0o750 });
  const copy = join(spoolDir, `${randomBytes(6).toString('hex')}-${basename(key)}`);
  try {
    await pipeline(object.body, createWriteStream(copy, { mode: 0o640 }));
    return await use(copy);
  } finally {
    await rm(copy, { force: true });
  }
}

/**
 * Where a writer (a recorder, a converter) should write what becomes the object `key`: the storage's own
 * file, or a file in `spoolDir` that `commit` then uploads and `release` removes.
 */
export async function spoolFor(
  storage: ObjectStorage,
  key: string,
  spoolDir: string,
): Promise<{ path: string; commit(): Promise<void>; release(): Promise<void> }> {
  const own = storage.fileOf(key);
  if (own !== undefined) return { path: own, commit: async () => {}, release: async () => {} };
  await mkdir(spoolDir, { recursive: true, mode: 0o750 });
  const path = join(spoolDir, `${randomBytes(6).toString('hex')}-${basename(key)}`);
  return {
    path,
    commit: async () => {
      await storage.putFile(key, path);
    },
    release: () => rm(path, { force: true }),
  };
}
