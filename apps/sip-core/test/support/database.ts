import { randomBytes } from 'node:crypto';
import { type Database, openDatabase, sipHa1 } from '@switchboard/db';
import pg from 'pg';
import { pino } from 'pino';

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:5432/switchboard_test';

export interface TestDatabase {
  db: Database;
  url: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(TEST_DATABASE_URL, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A freshly created, migrated PostgreSQL database for one test file; `drop()` removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sipcore_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(TEST_DATABASE_URL, name);
  const db = await openDatabase({ databaseUrl: url, dataDir: '.', log: pino({ level: 'silent' }) });
  await db.migrate();
  return {
    db,
    url,
    async drop() {
      await db.close();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

export interface TestTenant {
  customerId: string;
  domainId: string;
  domain: string;
}

/** A customer and a domain, the minimum a subscriber needs. */
export async function createTenant(db: Database, domain = 'example.test'): Promise<TestTenant> {
  const customer = await db.prisma.customer.create({ data: { name: `customer ${domain}` } });
  const row = await db.prisma.domain.create({ data: { name: domain } });
  return { customerId: customer.id, domainId: row.id, domain };
}

export async function createSubscriber(
  db: Database,
  tenant: TestTenant,
  username: string,
  password: string,
): Promise<string> {
  const row = await db.prisma.subscriber.create({
    data: {
      customerId: tenant.customerId,
      domainId: tenant.domainId,
      username,
      ...sipHa1(username, tenant.domain, password),
    },
  });
  return row.id;
}
