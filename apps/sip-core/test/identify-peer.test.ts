import { emptyNumberingData, NumberingIndex } from '@switchboard/numbering';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/access/rate-limiter.ts';
import { chain } from '../src/chain.ts';
import { identifyPeer } from '../src/middleware/identify-peer.ts';
import { rateLimit } from '../src/middleware/rate-limit.ts';
import type { IncomingRequest, Middleware } from '../src/sip/request.ts';

function peersIndex(): NumberingIndex {
  const data = emptyNumberingData();
  data.peeringGroups.push({ id: 'g1', name: 'carrier', priority: 1, enabled: true, rewriteRuleSetId: null });
  data.gateways.push({
    id: 'gw1',
    groupId: 'g1',
    name: 'gw1',
    host: 'sip.carrier.invalid',
    port: 5060,
    transport: 'udp',
    priority: 1,
    weight: 1,
    enabled: true,
    trustedSources: ['192.0.2.0/28'],
  });
  return new NumberingIndex(data);
}

function request(address: string): IncomingRequest {
  return {
    method: 'INVITE',
    uri: 'sip:+4930222222@example.test',
    source_address: address,
    source_port: 5060,
    protocol: 'udp',
    get: () => undefined,
    has: () => false,
    locals: { source: { address, port: 5060, transport: 'udp', trusted: false } },
  };
}

describe('identify-peer', () => {
  const log = pino({ level: 'silent' });
  // Burst of one: the second request of a source that is not trusted is refused with 503.
  const stages = (): Middleware[] => [identifyPeer(peersIndex()), rateLimit(new RateLimiter(1, 1))];

  async function run(stageList: Middleware[], req: IncomingRequest): Promise<number | 'passed'> {
    return new Promise((resolve) => {
      const handle = chain([...stageList, () => resolve('passed')], log);
      handle(req, { send: (status) => resolve(status) });
    });
  }

  it("names the gateway and group of a request from a gateway's trusted source, and trusts it", async () => {
    const list = stages();
    const req = request('192.0.2.9');
    expect(await run(list, req)).toBe('passed');
    expect(req.locals.source).toMatchObject({
      trusted: true,
      peer: { gatewayId: 'gw1', groupId: 'g1', matched: '192.0.2.0/28' },
    });
    // Trusted: the rate limit does not apply to it.
    expect(await run(list, request('192.0.2.9'))).toBe('passed');
  });

  it('leaves any other source untrusted and limited', async () => {
    const list = stages();
    const req = request('192.0.2.99');
    expect(await run(list, req)).toBe('passed');
    expect(req.locals.source.trusted).toBe(false);
    expect(req.locals.source.peer).toBeUndefined();
    expect(await run(list, request('192.0.2.99'))).toBe(503);
  });
});
