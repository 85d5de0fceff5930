import { type Database, hashPassword, type PrismaClient, sipHa1 } from '@switchboard/db';
import { openTestDatabase } from '@switchboard/db/testing';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/app.ts';
import { issueCredential } from '../../src/auth/tokens.ts';
import type { ActiveCall, ApiDeps } from '../../src/types.ts';

export const PASSWORD = 'correct horse battery staple';

export const FIXTURE_IDS = [
  'rA',
  'rB',
  'cA',
  'cB',
  'dA',
  'dB',
  'rsA',
  'rsB',
  'rsG',
  'ruleA',
  'ruleB',
  'ruleG',
  'sA',
  'sB',
  'nA',
  'nB',
  'cfA',
  'cfB',
  'regA',
  'regB',
  'cdrA',
  'cdrB',
  'pg',
  'gw',
  'pr',
  'ban',
  'auditA',
  'auditB',
] as const;
export type FixtureId = (typeof FIXTURE_IDS)[number];

export type Actor = 'operator' | 'resellerA' | 'resellerB' | 'customerA' | 'customerB';

/**
 * Two tenants side by side: reseller A with customer A, reseller B with customer B, each with a domain,
 * subscriber, number, call forward, rule set, registration and CDR; plus operator-only routing data.
 * Tests act as one of the five users and check what each may see and change.
 */
export interface World {
  app: FastifyInstance;
  prisma: PrismaClient;
  /** A fresh, migrated PostgreSQL database of this test file, dropped on close. */
  db: Database;
  tokens: Record<Actor, string>;
  users: Record<Actor, { id: string; email: string }>;
  ids: Record<FixtureId, string>;
  /** Moves the API's clock forward. */
  advance(ms: number): void;
  now(): number;
  calls: ActiveCall[];
  request(
    actor: Actor | null,
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function createWorld(label: string, extra: Partial<ApiDeps> = {}): Promise<World> {
  const db = await openTestDatabase('postgres', `api_${label}`);
  const prisma = db.prisma;
  let offset = 0;
  const now = () => Date.now() + offset;
  const calls: ActiveCall[] = [];
  const app = await buildApp({
    prisma,
    logger: pino({ level: 'silent' }),
    health: async () => ({ database: { status: 'up' } }),
    activeCalls: async () => calls,
    now,
    ...extra,
  });
  await app.ready();

  const passwordHash = await hashPassword(PASSWORD);
  const rA = await prisma.reseller.create({ data: { name: 'Reseller A' } });
  const rB = await prisma.reseller.create({ data: { name: 'Reseller B' } });
  const cA = await prisma.customer.create({ data: { name: 'Customer A', resellerId: rA.id } });
  const cB = await prisma.customer.create({ data: { name: 'Customer B', resellerId: rB.id } });
  const dA = await prisma.domain.create({
    data: { name: 'a.example.com', resellerId: rA.id, selfSignup: true },
  });
  const dB = await prisma.domain.create({ data: { name: 'b.example.com', resellerId: rB.id } });
  const rsA = await prisma.rewriteRuleSet.create({ data: { name: 'rules A', resellerId: rA.id } });
  const rsB = await prisma.rewriteRuleSet.create({ data: { name: 'rules B', resellerId: rB.id } });
  const rsG = await prisma.rewriteRuleSet.create({ data: { name: 'global rules' } });
  const mkRule = (ruleSetId: string) =>
    prisma.rewriteRule.create({
      data: {
        ruleSetId,
        direction: 'from_subscriber',
        field: 'callee',
        matchPattern: '^0(\\d+)$',
        replacement: '43$1',
      },
    });
  const ruleA = await mkRule(rsA.id);
  const ruleB = await mkRule(rsB.id);
  const ruleG = await mkRule(rsG.id);
  const mkSub = (customerId: string, domainId: string, realm: string, username: string) =>
    prisma.subscriber.create({
      data: { customerId, domainId, username, ...sipHa1(username, realm, 'sip-secret-1') },
    });
  const sA = await mkSub(cA.id, dA.id, dA.name, 'alice');
  const sB = await mkSub(cB.id, dB.id, dB.name, 'bob');
  const nA = await prisma.phoneNumber.create({
    data: {
      subscriberId: sA.id,
      e164: '+4311001',
      countryCode: '43',
      areaCode: '1',
      subscriberNumber: '1001',
      isPrimary: true,
    },
  });
  const nB = await prisma.phoneNumber.create({
    data: {
      subscriberId: sB.id,
      e164: '+4311002',
      countryCode: '43',
      areaCode: '1',
      subscriberNumber: '1002',
      isPrimary: true,
    },
  });
  const mkCf = (subscriberId: string) =>
    prisma.callForward.create({
      data: {
        subscriberId,
        type: 'cfb',
        destinations: { create: [{ position: 0, kind: 'uri', destination: 'sip:voicemail@example.com' }] },
      },
    });
  const cfA = await mkCf(sA.id);
  const cfB = await mkCf(sB.id);
  const mkReg = (subscriberId: string, aor: string) =>
    prisma.registration.create({
      data: {
        subscriberId,
        aor,
        bindingKey: `${aor};contact`,
        contactUri: `${aor.replace('sip:', 'sip:')};transport=udp`,
        receivedAddress: '127.0.0.1',
        receivedPort: 5070,
        transport: 'udp',
        expiresAt: new Date(Date.now() + 3600_000),
        callId: `reg-${aor}`,
        cseq: 1,
        node: 'test',
      },
    });
  const regA = await mkReg(sA.id, 'sip:alice@a.example.com');
  const regB = await mkReg(sB.id, 'sip:bob@b.example.com');
  const mkCdr = (subscriberId: string, customerId: string, callee: string, durationMs: number) =>
    prisma.cdr.create({
      data: {
        callId: `call-${callee}`,
        direction: 'outbound',
        callerDialled: '+4311001',
        calleeDialled: callee,
        startedAt: new Date('2026-01-10T10:00:00Z'),
        answeredAt: new Date('2026-01-10T10:00:05Z'),
        endedAt: new Date('2026-01-10T10:01:05Z'),
        durationMs,
        disposition: 'answered',
        sipCode: 200,
        callerSubscriberId: subscriberId,
        callerCustomerId: customerId,
      },
    });
  const cdrA = await mkCdr(sA.id, cA.id, '0800111', 60_000);
  const cdrB = await mkCdr(sB.id, cB.id, '0800222', 30_000);
  const pg = await prisma.peeringGroup.create({ data: { name: 'carrier' } });
  const gw = await prisma.peerGateway.create({
    data: { groupId: pg.id, name: 'gw1', host: 'gw1.example.net' },
  });
  const pr = await prisma.peeringRule.create({ data: { groupId: pg.id, calleePrefix: '43' } });
  const ban = await prisma.ipBan.create({ data: { address: '192.0.2.7', createdBy: 'test' } });

  const mkUser = (
    email: string,
    role: 'operator' | 'reseller' | 'customer',
    tenant: { resellerId?: string; customerId?: string },
  ) => prisma.user.create({ data: { email, role, passwordHash, ...tenant } });
  const userRows = {
    operator: await mkUser('operator@test.example', 'operator', {}),
    resellerA: await mkUser('reseller-a@test.example', 'reseller', { resellerId: rA.id }),
    resellerB: await mkUser('reseller-b@test.example', 'reseller', { resellerId: rB.id }),
    customerA: await mkUser('customer-a@test.example', 'customer', { customerId: cA.id }),
    customerB: await mkUser('customer-b@test.example', 'customer', { customerId: cB.id }),
  };
  const tokens = {} as Record<Actor, string>;
  const users = {} as Record<Actor, { id: string; email: string }>;
  for (const [actor, u] of Object.entries(userRows) as [Actor, { id: string; email: string }][]) {
    const c = issueCredential('session');
    await prisma.session.create({
      data: { userId: u.id, tokenHash: c.hash, expiresAt: new Date(Date.now() + 86_400_000) },
    });
    tokens[actor] = c.secret;
    users[actor] = { id: u.id, email: u.email };
  }
  const auditA = await prisma.auditEntry.create({
    data: {
      actor: users.customerA.email,
      actorUserId: users.customerA.id,
      action: 'update',
      entity: 'subscribers',
    },
  });
  const auditB = await prisma.auditEntry.create({
    data: {
      actor: users.customerB.email,
      actorUserId: users.customerB.id,
      action: 'update',
      entity: 'subscribers',
    },
  });

  const ids: Record<FixtureId, string> = {
    rA: rA.id,
    rB: rB.id,
    cA: cA.id,
    cB: cB.id,
    dA: dA.id,
    dB: dB.id,
    rsA: rsA.id,
    rsB: rsB.id,
    rsG: rsG.id,
    ruleA: ruleA.id,
    ruleB: ruleB.id,
    ruleG: ruleG.id,
    sA: sA.id,
    sB: sB.id,
    nA: nA.id,
    nB: nB.id,
    cfA: cfA.id,
    cfB: cfB.id,
    regA: regA.id,
    regB: regB.id,
    cdrA: cdrA.id,
    cdrB: cdrB.id,
    pg: pg.id,
    gw: gw.id,
    pr: pr.id,
    ban: ban.id,
    auditA: auditA.id,
    auditB: auditB.id,
  };

  return {
    app,
    prisma,
    db,
    tokens,
    users,
    ids,
    calls,
    advance: (ms) => {
      offset += ms;
    },
    now,
    request: (actor, method, url, body) =>
      app.inject({
        method,
        url,
        headers: actor === null ? {} : { authorization: `Bearer ${tokens[actor]}` },
        ...(body === undefined ? {} : { payload: body as object }),
      }),
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}
