import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRequest, createResponse, type SipRequest, type SipResponse } from '../src/messages/index.ts';
import {
  type BestResponseRule,
  type BranchSender,
  chooseBestResponse,
  type ForwardOptions,
  ProxyContext,
  StatefulProxy,
  type TimerCAction,
} from '../src/proxy/index.ts';
import { TransactionManager } from '../src/transactions/index.ts';
import { TransportLayer } from '../src/transport/index.ts';
import { parseUri } from '../src/uri/index.ts';

/**
 * The proxy's options beyond RFC 3261's defaults (what a drachtio-compatible engine chooses), on a response
 * context whose branches are played by the test: no sockets, fake timers.
 */

const HOP = { transport: 'udp' as const, address: '127.0.0.1', port: 5099 };

/** One branch as the test plays it: it records the CANCEL and delivers responses with our Via on top. */
class FakeBranch extends EventEmitter {
  cancelled = false;
  constructor(readonly request: SipRequest) {
    super();
  }
  start(): this {
    this.emit('attempt', { request: this.request }, HOP);
    return this;
  }
  cancel(): void {
    this.cancelled = true;
  }
  answer(status: number, headers: Array<[string, string]> = []): SipResponse {
    const response = createResponse(this.request, status, { toTag: `t${status}`, headers });
    this.emit('response', response, HOP);
    return response;
  }
}

interface Harness {
  context: ProxyContext;
  branches: FakeBranch[];
  upstream: SipResponse[];
  events: string[];
}

function invite(method = 'INVITE'): SipRequest {
  const request = createRequest({
    method,
    uri: 'sip:bob@proxy.example',
    from: 'sip:alice@example.com',
    to: 'sip:bob@example.com',
    contact: 'sip:alice@192.0.2.1',
  });
  request.prependVia('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcaller');
  return request;
}

/** A response context over fake branches; the proxy part only builds branches and records what goes up. */
function harness(
  targets: string[],
  options: ForwardOptions,
  settings: { timerC?: number; timerCAction?: TimerCAction; bestResponse?: BestResponseRule } = {},
): Harness {
  const branches: FakeBranch[] = [];
  const upstream: SipResponse[] = [];
  const request = invite();
  const proxy = {
    sendBranch: async (original: SipRequest, target: { toString(): string }) => {
      const branchRequest = original.clone();
      branchRequest.uri = parseUri(target.toString());
      branchRequest.prependVia('SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKproxy');
      const branch = new FakeBranch(branchRequest);
      branches.push(branch);
      return branch;
    },
    respondUpstream: (_tx: unknown, response: SipResponse) => upstream.push(response),
  };
  const context = new ProxyContext(
    // FakeBranch plays FailoverRequest: only its events, start() and cancel() are used by the context
    proxy as unknown as BranchSender,
    {
      timerC: settings.timerC ?? 0,
      timerCAction: settings.timerCAction ?? 'cancel',
      bestResponse: settings.bestResponse ?? 'rfc3261',
    },
    // likewise only the source of the server transaction is read
    { source: undefined } as unknown as ConstructorParameters<typeof ProxyContext>[2],
    request,
    targets.map((t) => parseUri(t)),
    options,
  );
  const events: string[] = [];
  context.on('branchSent', (sent) => events.push(`sent ${sent.uri.toString()}`));
  context.on('branchFinal', (r, _t, received) =>
    events.push(`branch ${r.status}${received ? '' : ' local'}`),
  );
  context.on('lateFinal', (received) => events.push(`late ${received.response.status}`));
  context.on('final', (r) => events.push(`final ${r.status}`));
  context.start();
  return { context, branches, upstream, events };
}

/** Lets the branch promises settle (sendBranch is async). */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('proxy Timer C (RFC 3261 §16.8)', () => {
  it('cancel: a ringing branch is cancelled and the proxy waits for its 487', async () => {
    const h = harness(['sip:b1@192.0.2.10'], {}, { timerC: 1000, timerCAction: 'cancel' });
    await settle();
    h.branches[0]!.answer(180);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.branches[0]!.cancelled).toBe(true);
    expect(h.upstream.map((r) => r.status)).toEqual([180]);
    h.branches[0]!.answer(487);
    expect(h.upstream.map((r) => r.status)).toEqual([180, 487]);
  });

  it('give-up: the ringing branch is cancelled and settled with a 408 at once; its 487 comes late', async () => {
    const h = harness(['sip:b1@192.0.2.10'], {}, { timerC: 1000, timerCAction: 'give-up' });
    await settle();
    h.branches[0]!.answer(180);
    await vi.advanceTimersByTimeAsync(999);
    expect(h.upstream.map((r) => r.status)).toEqual([180]);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.branches[0]!.cancelled).toBe(true);
    expect(h.upstream.map((r) => r.status)).toEqual([180, 408]);
    h.branches[0]!.answer(487);
    expect(h.events).toEqual(['sent sip:b1@192.0.2.10', 'branch 408 local', 'final 408', 'late 487']);
    expect(h.upstream).toHaveLength(2);
  });
});

describe('per-branch timeouts', () => {
  it('provisionalTimeout gives up a silent branch and serial forking moves on', async () => {
    const h = harness(['sip:b1@192.0.2.10', 'sip:b2@192.0.2.11'], {
      mode: 'serial',
      provisionalTimeout: 500,
    });
    await settle();
    expect(h.branches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(h.branches[0]!.cancelled).toBe(true);
    await settle();
    expect(h.branches).toHaveLength(2);
    h.branches[1]!.answer(200);
    expect(h.events).toEqual([
      'sent sip:b1@192.0.2.10',
      'branch 408 local',
      'sent sip:b2@192.0.2.11',
      'branch 200',
      'final 200',
    ]);
  });

  it('provisionalTimeout leaves a branch that has rung alone', async () => {
    const h = harness(['sip:b1@192.0.2.10'], { provisionalTimeout: 500 });
    await settle();
    h.branches[0]!.answer(180);
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.branches[0]!.cancelled).toBe(false);
    expect(h.context.finalSent).toBe(false);
  });

  it('finalTimeout gives up a ringing branch; its 487 is reported late, not chosen', async () => {
    const h = harness(['sip:b1@192.0.2.10', 'sip:b2@192.0.2.11'], { mode: 'serial', finalTimeout: 1000 });
    await settle();
    h.branches[0]!.answer(180);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.branches[0]!.cancelled).toBe(true);
    await settle();
    h.branches[0]!.answer(487);
    h.branches[1]!.answer(486);
    expect(h.events).toContain('late 487');
    expect(h.upstream.filter((r) => r.status >= 200).map((r) => r.status)).toEqual([408]);
  });
});

describe('followRedirects (RFC 3261 §16.5)', () => {
  it('a 3xx adds its Contacts to the target set and is not itself a candidate', async () => {
    const h = harness(['sip:b1@192.0.2.10'], { mode: 'serial', followRedirects: true });
    await settle();
    h.branches[0]!.answer(302, [['Contact', '<sip:b2@192.0.2.11>']]);
    await settle();
    expect(h.branches.map((b) => b.request.uri.toString())).toEqual([
      'sip:b1@192.0.2.10',
      'sip:b2@192.0.2.11',
    ]);
    h.branches[1]!.answer(486);
    expect(h.upstream.map((r) => r.status)).toEqual([486]);
  });

  it('without it the 3xx goes upstream', async () => {
    const h = harness(['sip:b1@192.0.2.10'], { mode: 'serial' });
    await settle();
    h.branches[0]!.answer(302, [['Contact', '<sip:b2@192.0.2.11>']]);
    await settle();
    expect(h.branches).toHaveLength(1);
    expect(h.upstream.map((r) => r.status)).toEqual([302]);
  });
});

describe('best response rules', () => {
  const request = invite();
  const answer = (status: number, header?: [string, string]) =>
    createResponse(request, status, { toTag: `t${status}`, headers: header ? [header] : [] });

  it('rfc3261 turns a chosen 503 into 500 and merges challenges (§16.7 steps 6-7)', () => {
    expect(chooseBestResponse(request, [answer(503), answer(504)]).status).toBe(500);
    const merged = chooseBestResponse(request, [
      answer(401, ['WWW-Authenticate', 'Digest realm="a"']),
      answer(407, ['Proxy-Authenticate', 'Digest realm="b"']),
    ]);
    expect(merged.getHeaders('Proxy-Authenticate')).toEqual(['Digest realm="b"']);
  });

  it('lowest-status sends the lowest status as it came: a 503 stays, challenges stay alone', () => {
    expect(chooseBestResponse(request, [answer(504), answer(503)], 'lowest-status').status).toBe(503);
    const alone = chooseBestResponse(
      request,
      [
        answer(407, ['Proxy-Authenticate', 'Digest realm="b"']),
        answer(401, ['WWW-Authenticate', 'Digest realm="a"']),
      ],
      'lowest-status',
    );
    expect(alone.status).toBe(401);
    expect(alone.getHeaders('Proxy-Authenticate')).toEqual([]);
    expect(chooseBestResponse(request, [answer(486), answer(603)], 'lowest-status').status).toBe(603);
  });
});

describe('branch building: Record-Route methods and the TU headers (§16.6)', () => {
  async function built(
    proxyOptions: { recordRouteMethods?: readonly string[] | 'all' },
    method: string,
    forward: ForwardOptions,
  ): Promise<SipRequest> {
    vi.useRealTimers();
    const layer = new TransportLayer();
    await layer.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
    const manager = new TransactionManager(layer);
    const proxy = new StatefulProxy({ manager, ...proxyOptions });
    try {
      const branch = await proxy.sendBranch(
        invite(method),
        parseUri('sip:b1@127.0.0.1:9'),
        undefined,
        forward,
      );
      const sent = new Promise<SipRequest>((resolve) => branch.on('attempt', (tx) => resolve(tx.request)));
      branch.start();
      return await sent;
    } finally {
      manager.close();
      await layer.close();
    }
  }

  it('by default only dialog-making methods get Record-Route; `all` records every method', async () => {
    expect((await built({}, 'INVITE', {})).getHeaders('Record-Route')).toHaveLength(1);
    expect((await built({}, 'MESSAGE', {})).getHeaders('Record-Route')).toHaveLength(0);
    expect(
      (await built({ recordRouteMethods: 'all' }, 'MESSAGE', {})).getHeaders('Record-Route'),
    ).toHaveLength(1);
  });

  it('a forward may turn Record-Route off and set headers on every branch', async () => {
    const request = await built({}, 'INVITE', { recordRoute: false, headers: [['X-Tenant', 'acme']] });
    expect(request.getHeaders('Record-Route')).toHaveLength(0);
    expect(request.getHeader('X-Tenant')).toBe('acme');
  });
});
