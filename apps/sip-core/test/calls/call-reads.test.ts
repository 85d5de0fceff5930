import type { PrismaClient, SqlSession } from '@switchboard/db';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { operatorApi, type TestApi } from '../support/api.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addCarrier, addOutboundRewrite, addPrimaryNumber } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import {
  aliceCallsBob,
  type CallStack,
  callFields,
  closeCallStack,
  completedCdr,
  DOMAIN,
  registerWithSipp,
  startCallStack,
  untilLimits,
} from './support/stack.ts';

/**
 * A call costs no database read: the caller's and callee's limits come from the directory and the
 * gateway's credentials from memory, both following the change feed. sip-core gets a client that
 * records every query it makes (a Prisma query extension) and a driver that records every statement
 * (the CDR writer's batches, a statement on `cdrs` counted as the Cdr model's, and the registrar's
 * binding batches, one on `registrations` as the Registration model's); the test reads and
 * provisions through the plain client and the REST API. The gateway (sipp) challenges with 401 and
 * checks the credentials.
 */

const OPERATOR = { email: 'ops@reads.test', password: 'operator password 1' };
const GATEWAY_USER = 'trunk';
const PSTN_NUMBER = '+4930555123';

/** One query sip-core made: model (`raw` for raw SQL) and operation (a driver statement's first keyword). */
interface Query {
  model: string;
  operation: string;
}

const queries: Query[] = [];
let recording = false;

/** The client sip-core gets: the test database's, recording each query while `recording` is on. */
function recordingClient(prisma: PrismaClient): PrismaClient {
  const extended = prisma.$extends({
    query: {
      async $allOperations({ model, operation, args, query }) {
        if (recording) queries.push({ model: model ?? 'raw', operation });
        return query(args);
      },
    },
  });
  // The extended client has every member sip-core uses; its type differs only in the extension's
  // generics, which PrismaClient does not name.
  return extended as unknown as PrismaClient;
}

/** The driver sip-core gets: the test database's, recording each statement while `recording` is on. */
function recordingSql(sql: SqlSession): SqlSession {
  return {
    query(text, params) {
      if (recording) {
        const operation = /^\s*(\w+)/.exec(text)?.[1]?.toLowerCase() ?? '';
        const model = /\bcdrs\b/.test(text) ? 'Cdr' : /\bregistrations\b/.test(text) ? 'Registration' : 'raw';
        queries.push({ model, operation });
      }
      return sql.query(text, params);
    },
    exec(script) {
      if (recording) queries.push({ model: 'raw', operation: 'exec' });
      return sql.exec(script);
    },
  };
}

const READS = /^(find|count|aggregate|groupBy|queryRaw|select|with)/;

let stack: CallStack;
let api: TestApi;
let token: string;
let bobPort: number;
let gatewayPort: number;
let gatewayId = '';
let groupId = '';

beforeAll(async () => {
  gatewayPort = await allocatePort();
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret' },
    { ringTimeout: 10 },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      await addPrimaryNumber(prisma, subscribers.get('alice') ?? '', '+4930111111');
      await addOutboundRewrite(prisma, tenant.domainId);
      const ids = await addCarrier(prisma, [
        { name: 'gw', host: '127.0.0.9', port: gatewayPort, priority: 1 },
      ]);
      gatewayId = ids.gw ?? '';
      const gateway = await prisma.peerGateway.update({
        where: { id: gatewayId },
        data: { authUsername: GATEWAY_USER, authPassword: 'first-secret' },
      });
      groupId = gateway.groupId;
    },
    {
      prismaFor: recordingClient,
      sqlFor: recordingSql,
    },
  );
  ({ api, token } = await operatorApi(stack.testDb.db.prisma, pino({ level: 'silent' }), OPERATOR));
  bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
}, 60_000);

afterAll(async () => {
  await api?.close();
  await closeCallStack(stack);
}, 30_000);

/** alice calls bob (`uas`: bob's scenario, null: bob is not reached); resolves with the completed CDR. */
const callBob = (uac: string, uas: string | null) => aliceCallsBob(stack, bobPort, uac, uas ?? undefined);

/** alice calls the PSTN through the gateway, which wants `password`; resolves with the completed CDR. */
async function callPstn(password: string) {
  const before = await stack.testDb.db.prisma.cdr.count();
  const gateway = runSipp({
    scenario: 'uas-gateway-auth.xml',
    port: gatewayPort,
    localIp: '127.0.0.9',
    fields: [GATEWAY_USER, password],
    timeoutS: 20,
  });
  await gateway.listening();
  const caller = runSipp({
    scenario: 'uac-call-bye.xml',
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('alice', 'alice-secret', PSTN_NUMBER),
    authUri: `${PSTN_NUMBER}@${DOMAIN}`,
    timeoutS: 20,
  });
  const [a, g] = await Promise.all([caller.done, gateway.done]);
  expectSippOk(a, 'alice');
  expectSippOk(g, 'gateway');
  return completedCdr(stack, before);
}

async function patch(url: string, payload: Record<string, unknown>): Promise<void> {
  const response = await api.inject({
    method: 'PATCH',
    url,
    headers: { authorization: `Bearer ${token}` },
    payload,
  });
  expect(response.statusCode, response.body).toBe(200);
}

describeOnEngine(onEngine('database reads per call'), { timeout: 60_000 }, () => {
  it('a call between subscribers and a call to an authenticating gateway read no table', async () => {
    queries.length = 0;
    recording = true;
    try {
      expect(await callBob('uac-call-bye.xml', 'uas-answer.xml')).toMatchObject({
        disposition: 'answered',
        sipCode: 200,
      });
      expect(await callPstn('first-secret')).toMatchObject({
        disposition: 'answered',
        direction: 'outbound',
        peerGatewayId: gatewayId,
      });
    } finally {
      recording = false;
    }
    // Bob's binding, written behind his REGISTER (200 ms window) in one driver statement (an INSERT, or
    // a WITH that deletes and inserts), may land in this window, and its announcement (a raw
    // statement through Prisma) too: writes of the registrar, not of the call.
    const bindingWrite = (q: Query) => q.model === 'Registration' && /^(insert|with)$/.test(q.operation);
    expect(queries.filter((q) => !bindingWrite(q) && READS.test(q.operation))).toEqual([]);
    // What a call does write: its CDR (inserted at the start, updated at the answer and the end, in
    // batched statements on the driver, none of them awaited before the call goes on).
    expect(
      queries.filter((q) => q.model !== 'Cdr' && !bindingWrite(q) && q.operation !== '$executeRaw'),
    ).toEqual([]);
    expect(queries.filter((q) => q.model === 'Cdr').map((q) => q.operation)).toEqual(
      expect.arrayContaining(['insert', 'update']),
    );
  });

  it("a customer's concurrent-call limit changed through the API applies to the next call", async () => {
    const alice = stack.subscribers.get('alice') ?? '';
    await patch(`/api/v1/customers/${stack.tenant.customerId}`, { maxConcurrentCalls: 0 });
    await untilLimits(stack, alice, (party) => party.customer.maxConcurrentCalls === 0);
    try {
      expect(await callBob('uac-call-rejected.xml', null)).toMatchObject({
        disposition: 'failed',
        sipCode: 503,
      });
      // Raised again through the API: the next call goes through.
      await patch(`/api/v1/customers/${stack.tenant.customerId}`, { maxConcurrentCalls: 5 });
      await untilLimits(stack, alice, (party) => party.customer.maxConcurrentCalls === 5);
      expect(await callBob('uac-call-bye.xml', 'uas-answer.xml')).toMatchObject({ disposition: 'answered' });
    } finally {
      // Cleared straight in the database: a PATCH with null left 0 here (docs/performance.md, "Found on
      // the way"), which would refuse every later call.
      await stack.testDb.db.prisma.customer.update({
        where: { id: stack.tenant.customerId },
        data: { maxConcurrentCalls: null },
      });
      await untilLimits(stack, alice, (party) => party.customer.maxConcurrentCalls === null);
    }
  });

  it("a gateway's credentials changed through the API are the ones the next call answers with", async () => {
    // With a realm: older versions stored only an HA1 then, which drachtio-srf cannot answer with.
    await patch(`/api/v1/peering-groups/${groupId}/gateways/${gatewayId}`, {
      authUsername: GATEWAY_USER,
      authPassword: 'rotated-secret',
      authRealm: 'carrier.test',
    });
    await vi.waitFor(
      async () => {
        const auth = await stack.sipCore.caches.gateways.forGateways([gatewayId]);
        expect(auth.get(gatewayId)?.password).toBe('rotated-secret');
      },
      { timeout: 10_000, interval: 50 },
    );
    // Not counted here: the numbering index reloads its snapshot on the same change meanwhile.
    expect(await callPstn('rotated-secret')).toMatchObject({ disposition: 'answered' });
  });
});
