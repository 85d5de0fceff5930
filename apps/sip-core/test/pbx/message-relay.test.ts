import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { UpstreamPbx } from '../../src/directory/directory.ts';
import { sanity } from '../../src/middleware/sanity.ts';
import { FlowTokens } from '../../src/pbx/fronted-flows.ts';
import { relayMessage } from '../../src/pbx/message-relay.ts';
import type { SrfRequester, SrfResponse } from '../../src/sip/srf-request.ts';
import { FakeRequest, FakeResponse } from '../support/fakes.ts';

/**
 * The MESSAGE relay of fronted domains (pbx/message-relay.ts) against a scripted PBX and phone: where
 * each direction goes, what is carried, what is refused and what counts as a failed login.
 */

const PBX: UpstreamPbx = { gatewayId: 'gw-1', host: '198.51.100.7', port: 5080, transport: 'udp' };
const PBX_PEER = {
  gatewayId: 'gw-1',
  gatewayName: 'pbx',
  groupId: 'g-1',
  groupName: 'pbx',
  matched: '198.51.100.7',
};

interface Sent {
  uri: string;
  proxy: string | undefined;
  headers: Record<string, string>;
  body: string | undefined;
}

function answer(status: number, headers: Record<string, string> = {}, reason = ''): SrfResponse {
  return { status, reason, get: (name) => headers[name] };
}

function setup(answers: Array<SrfResponse | 'silence'>) {
  const sent: Sent[] = [];
  const failures: string[] = [];
  const srf: SrfRequester = {
    request(uri, options, callback) {
      sent.push({ uri, proxy: options.proxy, headers: options.headers ?? {}, body: options.body });
      const next = answers.shift();
      callback(undefined, {
        on(_event, listener) {
          if (next && next !== 'silence') queueMicrotask(() => listener(next));
        },
      });
      return undefined;
    },
  };
  const tokens = new FlowTokens('test-secret');
  const relay = relayMessage({
    directory: { upstreamPbx: (host) => (host === 'pbx.example' ? PBX : undefined) },
    bans: {
      recordFailure: async (address, user) => {
        failures.push(`${address} ${user}`);
        return { addressBanned: false, delayMs: 0 };
      },
      recordSuccess: () => {},
    },
    tokens,
    srf,
    nodeName: 'node-1',
    log: pino({ level: 'silent' }),
    answerTimeoutMs: 200,
  });
  async function message(
    uri: string,
    headers: Record<string, string>,
    source: { address: string; peer?: typeof PBX_PEER },
  ) {
    const req = new FakeRequest('MESSAGE', uri, {
      Via: `SIP/2.0/UDP ${source.address}:5060;branch=z9hG4bK1;rport`,
      From: '<sip:alice@pbx.example>;tag=a1',
      To: '<sip:bob@pbx.example>',
      'Call-ID': 'sender-call-id@10.0.0.5',
      CSeq: '3 MESSAGE',
      'Max-Forwards': '70',
      'Content-Type': 'text/plain',
      ...headers,
    });
    req.locals = {
      source: {
        address: source.address,
        port: 5060,
        transport: 'udp',
        trusted: source.peer !== undefined,
        ...(source.peer ? { peer: source.peer } : {}),
      },
    };
    const res = new FakeResponse();
    let passedOn = false;
    await sanity()(req, res, () => {});
    await relay(req, res, () => {
      passedOn = true;
    });
    return { res, passedOn };
  }
  return { sent, tokens, failures, message };
}

describe('MESSAGE relay of a fronted domain', () => {
  it("sends a phone's MESSAGE to its PBX with a derived Call-ID and relays the challenge back", async () => {
    const { sent, tokens, failures, message } = setup([
      answer(407, { 'Proxy-Authenticate': 'Digest realm="pbx.example", nonce="n1"' }, 'Proxy Auth'),
      answer(407, { 'Proxy-Authenticate': 'Digest realm="pbx.example", nonce="n2"' }, 'Proxy Auth'),
    ]);
    const first = await message('sip:bob@pbx.example', {}, { address: '192.0.2.10' });
    expect(first.passedOn).toBe(false);
    expect(first.res.sent[0]).toMatchObject({
      status: 407,
      headers: { 'Proxy-Authenticate': 'Digest realm="pbx.example", nonce="n1"' },
    });
    expect(sent[0]).toMatchObject({
      uri: 'sip:bob@pbx.example',
      proxy: 'sip:198.51.100.7:5080;transport=udp',
      headers: {
        From: '<sip:alice@pbx.example>;tag=a1',
        To: '<sip:bob@pbx.example>',
        'Call-ID': tokens.callIdFor('sender-call-id@10.0.0.5'),
        CSeq: '3 MESSAGE',
      },
    });
    expect(sent[0]?.headers['Call-ID']).not.toContain('10.0.0.5');
    expect(failures).toEqual([]);
    // Credentials the PBX challenges again count as a failed login of the sender's address.
    const retry = await message(
      'sip:bob@pbx.example',
      { 'Proxy-Authorization': 'Digest username="alice", response="x"' },
      { address: '192.0.2.10' },
    );
    expect(retry.res.sent[0]?.status).toBe(407);
    expect(sent[1]?.headers['Proxy-Authorization']).toBe('Digest username="alice", response="x"');
    expect(failures).toEqual(['192.0.2.10 alice@pbx.example']);
  });

  it("sends the PBX's MESSAGE to the phone over the flow its token names", async () => {
    const { sent, tokens, message } = setup([answer(200, {}, 'OK')]);
    const token = tokens.tokenFor({
      aor: 'sip:bob@pbx.example',
      contactUri: 'sip:bob@10.0.0.9:5062;transport=tls',
      transport: 'tls',
      address: '192.0.2.20',
      port: 40123,
    });
    const { res, passedOn } = await message(
      `sip:${token}@203.0.113.5:5060`,
      { Route: `<sip:${token}@203.0.113.5:5060;lr>`, 'Call-ID': 'pbx-call-id' },
      { address: '198.51.100.7', peer: PBX_PEER },
    );
    expect(passedOn).toBe(false);
    expect(res.sent[0]?.status).toBe(200);
    expect(sent[0]).toMatchObject({
      uri: 'sip:bob@10.0.0.9:5062;transport=tls',
      proxy: 'sip:192.0.2.20:40123;transport=tls',
      headers: { From: '<sip:alice@pbx.example>;tag=a1', 'Call-ID': 'pbx-call-id' },
    });
  });

  it('refuses a token that does not open, and one from a gateway that is not the PBX of its domain', async () => {
    const { sent, tokens, message } = setup([]);
    const forged = `fl${'A'.repeat(60)}`;
    const bad = await message(`sip:${forged}@203.0.113.5`, {}, { address: '198.51.100.7', peer: PBX_PEER });
    expect(bad.res.sent[0]?.status).toBe(404);
    const token = tokens.tokenFor({
      aor: 'sip:bob@pbx.example',
      contactUri: 'sip:bob@10.0.0.9',
      transport: 'udp',
      address: '192.0.2.20',
      port: 5060,
    });
    const other = await message(
      `sip:${token}@203.0.113.5`,
      {},
      { address: '198.51.100.99', peer: { ...PBX_PEER, gatewayId: 'gw-other' } },
    );
    expect(other.res.sent[0]?.status).toBe(404);
    expect(sent).toEqual([]);
  });

  it("leaves other domains to the platform's own chain; a silent far end is a 408", async () => {
    const { sent, message } = setup(['silence']);
    const ours = await message(
      'sip:bob@example.test',
      { From: '<sip:alice@example.test>;tag=a1', To: '<sip:bob@example.test>' },
      { address: '192.0.2.10' },
    );
    expect(ours.passedOn).toBe(true);
    expect(sent).toEqual([]);
    const silent = await message('sip:bob@pbx.example', {}, { address: '192.0.2.10' });
    expect(silent.res.sent[0]?.status).toBe(408);
  });
});
