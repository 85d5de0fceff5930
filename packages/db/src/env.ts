import path from 'node:path';

/**
 * Database settings of the command-line scripts, from the platform's environment variables:
 * `DATABASE_URL` (PostgreSQL; unset means the embedded database) and `DATA_DIR` (default
 * `./data`). A relative DATA_DIR is taken from the directory the command was started in
 * (`INIT_CWD`, set by pnpm), not from this package's folder where pnpm runs the script.
 */
export function databaseSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  databaseUrl: string | undefined;
  dataDir: string;
} {
  const baseDir = env.INIT_CWD || process.cwd();
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(baseDir, env.DATA_DIR || 'data'),
  };
}
