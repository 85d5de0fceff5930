import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { checkKey, type ObjectStorage, type StoredObject } from './storage.ts';

/** Files in a folder of this host (the default: the layout under DATA_DIR that docs/pbx.md describes). */
export class LocalStorage implements ObjectStorage {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get location(): string {
    return this.root;
  }

  fileOf(key: string): string {
    const file = resolve(join(this.root, checkKey(key)));
    // A key never reaches outside the folder (checkKey refuses `..`; this also catches odd separators).
    if (!file.startsWith(this.root + sep)) throw new Error(`invalid object key '${key}'`);
    return file;
  }

  async put(key: string, data: Buffer): Promise<void> {
    const file = this.fileOf(key);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, data, { mode: 0o640 });
  }

  async putFile(key: string, path: string): Promise<void> {
    const file = this.fileOf(key);
    if (resolve(path) === file) return;
    await mkdir(dirname(file), { recursive: true });
    await copyFile(path, file);
  }

  /** The file of a key, or undefined for a key that is not valid (nothing is read then). */
  private readable(key: string): string | undefined {
    try {
      return this.fileOf(key);
    } catch {
      return undefined;
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const file = this.readable(key);
    if (file === undefined) return undefined;
    const size = await stat(file).then(
      (s) => (s.isFile() ? s.size : undefined),
      () => undefined,
    );
    return size === undefined ? undefined : { body: createReadStream(file), size };
  }

  async delete(key: string): Promise<void> {
    await rm(this.fileOf(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    const file = this.readable(key);
    if (file === undefined) return false;
    return stat(file).then(
      (s) => s.isFile(),
      () => false,
    );
  }
}
