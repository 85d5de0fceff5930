// Standard Prisma configuration: `prisma generate`, `prisma migrate dev` and friends read it.
// The platform itself never runs the Prisma CLI at run time; see docs/database.md.
import { defineConfig } from 'prisma/config';

const databaseUrl = process.env.DATABASE_URL;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
    seed: 'tsx src/cli/seed.ts',
  },
  // Only commands that talk to a database need it; `prisma generate` runs without.
  ...(databaseUrl ? { datasource: { url: databaseUrl } } : {}),
});
