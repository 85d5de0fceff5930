import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ActiveCalls } from '../../src/calls/active-calls.ts';
import { type CallsConfig, DEFAULT_CALLS } from '../../src/calls/calls-config.ts';
import { admit } from '../../src/calls/stages/admit.ts';
import { classify } from '../../src/calls/stages/classify.ts';
import type { CdrWriter } from '../../src/cdr/cdr-writer.ts';
import { chain } from '../../src/chain.ts';
import type { CachedSubscriber, Directory } from '../../src/directory/directory.ts';
import { nodeCapacity } from '../../src/middleware/node-capacity.ts';
import { sanity } from '../../src/middleware/sanity.ts';
import type { IncomingRequest, Middleware, RequestLocals } from '../../src/sip/request.ts';
import { FakeRequest, FakeResponse } from '../support/fakes.ts';

const log = pino({ level: 'silent' });

const alice: CachedSubscriber = {
  id: 'sub-alice',
  username: 'alice',
  domain: 'example.test',
  domainId: 'dom-1',
  customerId: 'cust-1',
  enabled: true,
  ha1: '',
  maxConcurrentCalls: null,
  customer: { maxConcurrentCalls: null, maxCallDuration: null },
  srtp: 'optional',
};
const bob: CachedSubscriber = { ...alice, id: 'sub-bob', username: 'bob' };

/** The directory classify reads: example.test with alice and bob. */
const directory = {
  servesDomain: (host: string) => host.toLowerCase() === 'example.test',
  findSubscriber: (username: string, domain: string) =>
    domain === 'example.test' ? [alice, bob].find((s) => s.username === username) : undefined,
};

function invite(to: string, locals: Partial<RequestLocals>, trusted = false): FakeRequest {
  const req = new FakeRequest('INVITE', 'sip:bob@example.test', {
    Via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1',
    From: '"Alice" <sip:alice@example.test>;tag=a1',
    To: to,
    'Call-ID': 'stages-1',
    CSeq: '1 INVITE',
    'Max-Forwards': '70',
  });
  req.locals = {
    source: { address: '192.0.2.10', port: 5060, transport: 'udp', trusted },
    ...locals,
  } as RequestLocals;
  return req;
}

/** Runs sanity and classify, then records whether the request was handed on. */
async function classified(req: FakeRequest): Promise<{ res: FakeResponse; passed: IncomingRequest[] }> {
  const passed: IncomingRequest[] = [];
  const res = new FakeResponse();
  const after: Middleware = (r, response) => {
    passed.push(r);
    response.send(200, 'OK');
  };
  chain([sanity(), classify({ directory }), after], log)(req, res);
  await res.answered;
  return { res, passed };
}

describe('INVITE stage classify', () => {
  it('answers a request inside a dialog it does not know (a To tag) with 481', async () => {
    const { res, passed } = await classified(invite('<sip:bob@example.test>;tag=b1', { subscriber: alice }));
    expect(res.sent[0]?.status).toBe(481);
    expect(passed).toHaveLength(0);
  });

  it('refuses a caller that is neither an authenticated subscriber nor a trusted peer', async () => {
    const { res, passed } = await classified(invite('<sip:bob@example.test>', {}));
    expect(res.sent[0]?.status).toBe(403);
    expect(passed).toHaveLength(0);
  });

  it("a subscriber's call to a username of our domain is internal, its plan and CDR started", async () => {
    const { passed } = await classified(invite('<sip:bob@example.test>', { subscriber: alice }));
    const plan = passed[0]?.locals.invite;
    expect(plan).toMatchObject({
      kind: 'internal',
      caller: alice,
      destination: { kind: 'subscriber', subscriber: bob },
      cdr: {
        callId: 'stages-1',
        direction: 'internal',
        callerDialled: 'sip:alice@example.test',
        calleeDialled: 'sip:bob@example.test',
        callerSubscriberId: alice.id,
        sourceAddress: 'udp:192.0.2.10:5060',
      },
    });
  });

  it("a trusted peer's call is inbound; without numbering no DID is found", async () => {
    const { passed } = await classified(invite('<sip:bob@example.test>', {}, true));
    const plan = passed[0]?.locals.invite;
    expect(plan?.caller).toBeUndefined();
    expect(plan).toMatchObject({
      kind: 'inbound',
      destination: { kind: 'subscriber', subscriber: undefined },
      cdr: { direction: 'inbound', callerDialled: 'alice', callerWithheld: false },
    });
  });
});

describe("INVITE stage admit: the node's own limits", () => {
  const recorded: number[] = [];
  const cdr = {
    finish: async (_id: unknown, _start: unknown, end: { sipCode: number }) => {
      recorded.push(end.sipCode);
    },
  } as unknown as CdrWriter;
  // admit reads a subscriber's limits through the directory; none here beyond what classify found.
  const admitDirectory = { ...directory, subscriberById: () => undefined } as unknown as Directory;

  /** One INVITE from alice through sanity, classify and admit; a call admitted is answered 200. */
  async function attempt(calls: ActiveCalls, config: CallsConfig) {
    const passed: IncomingRequest[] = [];
    const res = new FakeResponse();
    const after: Middleware = (r, response) => {
      passed.push(r);
      response.send(200, 'OK');
    };
    const admission = admit({ cdr, directory: admitDirectory, calls, config, log });
    chain([sanity(), classify({ directory }), admission, after], log)(
      invite('<sip:bob@example.test>', { subscriber: alice }),
      res,
    );
    return { sent: await res.answered, release: () => passed[0]?.locals.invite?.admitted?.release() };
  }

  it('refuses a call beyond calls.maxConcurrent with 503 and Retry-After until one ends', async () => {
    const calls = new ActiveCalls();
    const config = { ...DEFAULT_CALLS, maxConcurrent: 2 };
    const first = await attempt(calls, config);
    const second = await attempt(calls, config);
    expect([first.sent.status, second.sent.status]).toEqual([200, 200]);
    const third = await attempt(calls, config);
    expect(third.sent).toMatchObject({
      status: 503,
      reason: 'Service Unavailable',
      headers: { 'Retry-After': '5' },
    });
    expect(recorded.at(-1)).toBe(503); // the refused attempt has its CDR
    first.release();
    first.release(); // a second release gives back nothing more
    expect((await attempt(calls, config)).sent.status).toBe(200);
    expect((await attempt(calls, config)).sent.status).toBe(503);
  });

  it('counts the calls admitted before calls.maxConcurrent was set against it', async () => {
    const calls = new ActiveCalls();
    const before = [await attempt(calls, DEFAULT_CALLS), await attempt(calls, DEFAULT_CALLS)];
    expect(before.map((a) => a.sent.status)).toEqual([200, 200]);
    const limited = { ...DEFAULT_CALLS, maxConcurrent: 2 }; // set live, by an operator
    expect((await attempt(calls, limited)).sent.status).toBe(503);
    before[0]?.release();
    expect((await attempt(calls, limited)).sent.status).toBe(200);
  });

  it('refuses a call beyond calls.maxPerSecond with 503 and Retry-After: 1; unset, nothing is limited', async () => {
    const calls = new ActiveCalls();
    const config = { ...DEFAULT_CALLS, maxPerSecond: 1 };
    expect((await attempt(calls, config)).sent.status).toBe(200);
    expect((await attempt(calls, config)).sent).toMatchObject({
      status: 503,
      headers: { 'Retry-After': '1' },
    });
    const unlimited = new ActiveCalls();
    for (let i = 0; i < 20; i++) expect((await attempt(unlimited, DEFAULT_CALLS)).sent.status).toBe(200);
  });

  it('turns a new call away before authentication while the node is full; a request of a dialog passes', async () => {
    const calls = new ActiveCalls();
    const seen: Array<{ scope: string; limit: string }> = [];
    calls.countRefusalsIn({ inc: (labels) => seen.push(labels) });
    const early = async (config: CallsConfig, to: string) => {
      const res = new FakeResponse();
      const after: Middleware = (_r, response) => response.send(200, 'OK');
      chain([sanity(), nodeCapacity(calls, config), after], log)(invite(to, { subscriber: alice }), res);
      return res.answered;
    };
    const full = { ...DEFAULT_CALLS, maxConcurrent: 1, maxPerSecond: 1 };
    expect((await early(full, '<sip:bob@example.test>')).status).toBe(200); // room: on to the digest
    const admitted = await attempt(calls, full);
    expect(admitted.sent.status).toBe(200);
    expect(await early(full, '<sip:bob@example.test>')).toMatchObject({
      status: 503,
      headers: { 'Retry-After': '5' },
    });
    expect((await early(full, '<sip:bob@example.test>;tag=b1')).status).toBe(200); // a re-INVITE
    admitted.release();
    // The call ended, but its start still fills this second's one call.
    expect(await early(full, '<sip:bob@example.test>')).toMatchObject({
      status: 503,
      headers: { 'Retry-After': '1' },
    });
    expect((await early({ ...full, maxPerSecond: 0 }, '<sip:bob@example.test>')).status).toBe(200);
    expect(seen).toEqual([
      { scope: 'node', limit: 'concurrent' },
      { scope: 'node', limit: 'rate' },
    ]);
  });

  it("gives each of the node's sip-core workers an equal share, rounded up", () => {
    const worker = new ActiveCalls(undefined, 3);
    expect(worker.nodeScope({ maxConcurrent: 100, maxPerSecond: 30 })).toMatchObject({
      scope: 'node',
      maxConcurrent: 34,
      maxPerSecond: 10,
    });
    expect(worker.nodeScope({ maxConcurrent: 0, maxPerSecond: 5 })).toMatchObject({
      maxConcurrent: undefined,
      maxPerSecond: 2,
    });
    expect(worker.nodeScope({ maxConcurrent: 0, maxPerSecond: 0 })).toBeUndefined();
  });
});
