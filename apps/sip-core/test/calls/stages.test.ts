import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/calls/stages/classify.ts';
import { chain } from '../../src/chain.ts';
import type { CachedSubscriber } from '../../src/directory/directory.ts';
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
