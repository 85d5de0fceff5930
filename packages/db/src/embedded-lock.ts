import { open, readFile, rm } from 'node:fs/promises';

/**
 * Keeps a second process (say `pnpm db:seed` while the platform runs) from opening the same
 * embedded database: two PGlite instances on one folder corrupt it. The lock is a file holding
 * the owner's pid; one left behind by a process that no longer exists is taken over.
 */
export class EmbeddedDatabaseLock {
  readonly #file: string;

  private constructor(file: string) {
    this.#file = file;
  }

  static async acquire(file: string): Promise<EmbeddedDatabaseLock> {
    // Bounded: one retry after removing a stale lock is enough unless another process races us.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(file, 'wx');
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        return new EmbeddedDatabaseLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new Error(
          `the embedded database is in use by process ${owner}${owner === process.pid ? ' (this one)' : ''}; ` +
            `stop it first, or point DATABASE_URL at a PostgreSQL server to share a database (lock file ${file})`,
        );
      }
      await rm(file, { force: true });
    }
    throw new Error(`could not take the embedded database lock ${file}`);
  }

  async release(): Promise<void> {
    await rm(this.#file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
