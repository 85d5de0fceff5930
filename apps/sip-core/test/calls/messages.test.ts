import { startBaresipMessenger, startLinphonec } from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorApi, type TestApi } from '../support/api.ts';
import { addPrimaryNumber } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp, type SippRun } from './support/sipp.ts';
import {
  type CallStack,
  callFields,
  closeCallStack,
  DOMAIN,
  registerWithSipp,
  startCallStack,
} from './support/stack.ts';

/**
 * Instant messages (RFC 3428) through engine + sip-core + PostgreSQL: stored for an offline
 * recipient (202) and delivered by the queue when linphonec registers; addressed like calls (a
 * number reaches another customer's subscriber, its username does not); size and rate limits from
 * the settings table.
 */
const users = ['alice', 'bob', 'carol', 'dora', 'erin', 'frank', 'gus', 'hank', 'ivy', 'jack', 'kim'];
const ERIN_NUMBER = '+493055501';
/** Below the too-large scenario's body, above the others'. */
const MAX_BYTES = 80;
const RATE_PER_MINUTE = 3;

let stack: CallStack;
let api: { api: TestApi; token: string };

beforeAll(async () => {
  stack = await startCallStack(
    Object.fromEntries(users.map((u) => [u, `${u}-secret`])),
    {},
    async (db, _tenant, subscribers) => {
      const prisma = db.db.prisma;
      // dora and erin belong to another customer; erin has a number, dora none.
      const other = await prisma.customer.create({ data: { name: 'other customer' } });
      await prisma.subscriber.updateMany({
        where: { id: { in: [subscribers.get('dora')!, subscribers.get('erin')!] } },
        data: { customerId: other.id },
      });
      await addPrimaryNumber(prisma, subscribers.get('erin')!, ERIN_NUMBER);
      await prisma.setting.createMany({
        data: [
          { id: 'messages.maxBytes', value: MAX_BYTES },
          { id: 'messages.ratePerMinute', value: RATE_PER_MINUTE },
        ],
      });
    },
  );
  api = await operatorApi(stack.testDb.db.prisma, pino({ level: 'silent' }), {
    email: 'ops@example.test',
    password: 'operator password 1',
  });
}, 90_000);

afterAll(async () => {
  await api?.api.close();
  await closeCallStack(stack);
}, 30_000);

async function send(from: string, to: string, scenario: string, text = ''): Promise<SippRun> {
  return runSipp({
    scenario,
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: [...callFields(from, `${from}-secret`, to), text],
    authUri: `${to}@${DOMAIN}`,
    timeoutS: 30,
  });
}

const messagesTo = (user: string) =>
  stack.testDb.db.prisma.message.findMany({
    where: { recipientSubscriberId: stack.subscribers.get(user) },
    orderBy: { createdAt: 'asc' },
  });

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`no ${what} within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a message to a subscriber without a registered device', () => {
  it('is stored (202) and delivered in order, with its original time, when linphonec registers', async () => {
    for (const n of [1, 2])
      expectSippOk(
        await (await send('alice', 'bob', 'uac-message-queued.xml', String(n))).done,
        `alice ${n}`,
      );
    const queued = await messagesTo('bob');
    expect(queued.map((m) => [m.body.trim(), m.status, m.attempts])).toEqual([
      ['Message 1', 'queued', 0],
      ['Message 2', 'queued', 0],
    ]);
    expect(queued[0]).toMatchObject({
      fromUri: `sip:alice@${DOMAIN}`,
      toUri: `sip:bob@${DOMAIN}`,
      senderCustomerId: stack.tenant.customerId,
      recipientCustomerId: stack.tenant.customerId,
      contentType: 'text/plain',
    });
    const [address, port] = stack.sipAddress.split(':');
    const bob = await startLinphonec({
      user: 'bob',
      domain: DOMAIN,
      password: 'bob-secret',
      registrar: `${address}:${port}`,
    });
    try {
      const delivered = await until('delivery to linphonec', async () => {
        const rows = await messagesTo('bob');
        return rows.every((m) => m.status === 'delivered') ? rows : undefined;
      });
      expect(delivered.map((m) => [m.body.trim(), m.attempts])).toEqual([
        ['Message 1', 1],
        ['Message 2', 1],
      ]);
      // Delivered after they were sent; created_at stays the original time.
      for (const [i, m] of delivered.entries()) {
        expect(m.createdAt.getTime()).toBe(queued[i]!.createdAt.getTime());
        expect(m.deliveredAt!.getTime()).toBeGreaterThan(m.createdAt.getTime());
      }
      await until('the texts in linphonec', async () =>
        /Message 1[\s\S]*Message 2/.test(bob.output()) ? true : undefined,
      );
    } finally {
      bob.stop();
    }
  }, 90_000);
});

/** The API's history of one subscriber, oldest first, as the operator reads it. */
async function history(user: string) {
  const res = await api.api.inject({
    method: 'GET',
    url: `/api/v1/messages?subscriberId=${stack.subscribers.get(user)}&sort=createdAt`,
    headers: { authorization: `Bearer ${api.token}` },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: { body: string; status: string; fromUri: string; toUri: string }[] }>().items;
}

describe('a stored message sent on registration', () => {
  it('carries the time it was sent in a Date header', async () => {
    expectSippOk(
      await (await send('bob', 'ivy', 'uac-message-queued.xml', 'while you were away')).done,
      'bob to ivy',
    );
    const port = await registerWithSipp(stack, 'ivy', 'ivy-secret');
    // The queue sends right after the 200; UDP retransmissions (RFC 3261 §17.1.2.1) reach the
    // phone once sipp listens on the socket it registered from.
    const ivy = runSipp({ scenario: 'uas-message-dated.xml', port, timeoutS: 30 });
    expectSippOk(await ivy.done, 'ivy');
    await until('the delivery', async () =>
      (await messagesTo('ivy'))[0]?.status === 'delivered' ? true : undefined,
    );
  }, 60_000);
});

describe('a stored message its recipient refuses', () => {
  it('stays queued with the failure noted and goes to the next device that registers', async () => {
    expectSippOk(
      await (await send('kim', 'jack', 'uac-message-queued.xml', 'while you were away')).done,
      'kim to jack',
    );
    const refusing = await registerWithSipp(stack, 'jack', 'jack-secret');
    expectSippOk(
      await runSipp({ scenario: 'uas-message-refuse.xml', port: refusing, timeoutS: 30 }).done,
      'jack refuses',
    );
    const [refused] = await until('the failed attempt', async () => {
      const rows = await messagesTo('jack');
      return rows[0]?.attempts === 1 ? rows : undefined;
    });
    expect(refused).toMatchObject({
      status: 'queued',
      error: '480 Temporarily Unavailable',
      deliveredAt: null,
    });
    // A second device (another contact): the message goes out again and is taken there.
    const taking = await registerWithSipp(stack, 'jack', 'jack-secret');
    expectSippOk(
      await runSipp({ scenario: 'uas-message-dated.xml', port: taking, timeoutS: 30 }).done,
      'jack takes it',
    );
    const [delivered] = await until('the delivery', async () => {
      const rows = await messagesTo('jack');
      return rows[0]?.status === 'delivered' ? rows : undefined;
    });
    expect(delivered).toMatchObject({ attempts: 2, error: null });
  }, 60_000);
});

describe('baresip to an offline linphonec', () => {
  it("is stored, delivered when linphonec registers, and in both sides' history", async () => {
    const registrar = stack.sipAddress;
    const gus = await startBaresipMessenger(
      { user: 'gus', domain: DOMAIN, password: 'gus-secret', registrar },
      `sip:hank@${DOMAIN}`,
    );
    try {
      // baresip registers first; its MESSAGE goes through the same proxy.
      await until('gus registered', async () =>
        stack.sipCore.location.lookup(`sip:gus@${DOMAIN}`).length > 0 ? true : undefined,
      );
      gus.message('Hello from baresip');
      const [queued] = await until('the stored message', async () => {
        const rows = await messagesTo('hank');
        return rows.length > 0 ? rows : undefined;
      });
      expect(queued).toMatchObject({
        status: 'queued',
        fromUri: `sip:gus@${DOMAIN}`,
        body: 'Hello from baresip',
      });
    } finally {
      gus.stop();
    }
    const hank = await startLinphonec({ user: 'hank', domain: DOMAIN, password: 'hank-secret', registrar });
    try {
      await until('the text in linphonec', async () =>
        /Hello from baresip/.test(hank.output()) ? true : undefined,
      );
      await until('the delivery', async () =>
        (await messagesTo('hank'))[0]?.status === 'delivered' ? true : undefined,
      );
    } finally {
      hank.stop();
    }
    for (const user of ['gus', 'hank'])
      expect(await history(user), user).toEqual([
        expect.objectContaining({
          body: 'Hello from baresip',
          status: 'delivered',
          fromUri: `sip:gus@${DOMAIN}`,
          toUri: `sip:hank@${DOMAIN}`,
        }),
      ]);
  }, 90_000);
});

describe('addressing and limits', () => {
  it("reaches another customer's subscriber by its number, not by its username", async () => {
    expectSippOk(await (await send('carol', 'dora', 'uac-message-not-found.xml')).done, 'carol to dora');
    expectSippOk(await (await send('carol', 'erin', 'uac-message-not-found.xml')).done, 'carol to erin');
    expect(await messagesTo('dora')).toEqual([]);
    expect(await messagesTo('erin')).toEqual([]);
    expectSippOk(
      await (await send('carol', ERIN_NUMBER, 'uac-message-queued.xml', 'by number')).done,
      'carol to erin by number',
    );
    const [row] = await messagesTo('erin');
    expect(row?.body.trim()).toBe('Message by number');
    expect(row).toMatchObject({
      status: 'queued',
      senderCustomerId: stack.tenant.customerId,
      recipientCustomerId: expect.not.stringMatching(stack.tenant.customerId),
    });
  }, 60_000);

  it('refuses a body over messages.maxBytes with 413 and stores nothing', async () => {
    const before = await stack.testDb.db.prisma.message.count();
    expectSippOk(await (await send('dora', 'erin', 'uac-message-too-large.xml')).done, 'dora too large');
    expect(await stack.testDb.db.prisma.message.count()).toBe(before);
  }, 60_000);

  it('refuses a sender over messages.ratePerMinute with 503', async () => {
    for (let n = 0; n < RATE_PER_MINUTE; n++)
      expectSippOk(
        await (await send('frank', 'carol', 'uac-message-queued.xml', `rate ${n}`)).done,
        `frank ${n}`,
      );
    expectSippOk(await (await send('frank', 'carol', 'uac-message-limited.xml')).done, 'frank over the rate');
  }, 60_000);
});
