import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { UpstreamPbx } from '../../src/directory/directory.ts';
import { sanity } from '../../src/middleware/sanity.ts';
import { EngineAddresses, FlowTokens } from '../../src/pbx/fronted-flows.ts';
import { type RegisterRequester, type RelayedResponse, relayRegister } from '../../src/pbx/register-relay.ts';
import { FakeRequest, FakeResponse } from '../support/fakes.ts';

/**
 * The REGISTER relay of a fronted domain (pbx/register-relay.ts) against a scripted PBX: what goes to
 * the PBX, what comes back to the phone, the flow its token carries, and what counts as a failure.
 */

const PBX: UpstreamPbx = { gatewayId: 'gw-1', host: '198.51.100.7', port: 5080, transport: 'udp' };

interface Sent {
  uri: string;
  proxy: string | undefined;
  headers: Record<string, string>;
}

function answer(status: number, headers: Record<string, string> = {}, reason = ''): RelayedResponse {
  return { status, reason, get: (name) => headers[name] };
}

function setup(pbxAnswers: Array<RelayedResponse | 'silence'>) {
  const sent: Sent[] = [];
  const failures: string[] = [];
  const successes: string[] = [];
  const srf: RegisterRequester = {
    request(uri, options, callback) {
      sent.push({ uri, proxy: options.proxy, headers: options.headers ?? {} });
      const next = pbxAnswers.shift();
      callback(undefined, {
        on(_event, listener) {
          if (next && next !== 'silence') queueMicrotask(() => listener(next));
        },
      });
    },
  };
  const engine = new EngineAddresses();
  engine.set('udp/203.0.113.5:5060,tcp/203.0.113.5:5060');
  const tokens = new FlowTokens('test-secret');
  const relay = relayRegister({
    directory: { upstreamPbx: (host) => (host === 'pbx.example' ? PBX : undefined) },
    bans: {
      recordFailure: async (address, user) => {
        failures.push(`${address} ${user}`);
        return { addressBanned: false, delayMs: 0 };
      },
      recordSuccess: (address, user) => successes.push(`${address} ${user}`),
    },
    tokens,
    srf,
    engine,
    log: pino({ level: 'silent' }),
    answerTimeoutMs: 200,
  });
  async function register(headers: Record<string, string> = {}, domain = 'pbx.example') {
    const req = new FakeRequest('REGISTER', `sip:${domain}`, {
      Via: 'SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport',
      From: `<sip:alice@${domain}>;tag=a1`,
      To: `<sip:alice@${domain}>`,
      'Call-ID': 'phone-call-id@10.0.0.5',
      CSeq: '7 REGISTER',
      'Max-Forwards': '70',
      Contact: '<sip:alice@10.0.0.5:5060>;expires=600',
      'User-Agent': 'desk-phone',
      ...headers,
    });
    req.locals = { source: { address: '192.0.2.10', port: 40000, transport: 'udp', trusted: false } };
    const res = new FakeResponse();
    let passedOn = false;
    await sanity()(req, res, () => {});
    await relay(req, res, () => {
      passedOn = true;
    });
    return { res, passedOn };
  }
  return { sent, tokens, register, failures, successes };
}

describe('REGISTER relay to an upstream PBX', () => {
  it('leaves a domain without an upstream PBX to our own registrar', async () => {
    const { register, sent } = setup([]);
    const { passedOn } = await register({}, 'own.example');
    expect(passedOn).toBe(true);
    expect(sent).toHaveLength(0);
  });

  it('relays the challenge and the authorised retry; the 200 keeps the flow and gives the phone its contact', async () => {
    const challenge = 'Digest realm="pbx.example", nonce="n1", qop="auth"';
    const { register, sent, successes } = setup([
      answer(401, { 'WWW-Authenticate': challenge }, 'Unauthorized'),
      'silence',
    ]);
    const first = await register();
    expect(first.res.sent[0]).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': challenge } });
    const out = sent[0]!;
    expect(out.uri).toBe('sip:pbx.example');
    expect(out.proxy).toBe('sip:198.51.100.7:5080;transport=udp');
    const token = /^<sip:(fl[A-Za-z0-9_-]+)@203\.0\.113\.5:5060>;expires=600$/.exec(
      out.headers.Contact ?? '',
    )?.[1];
    expect(token, out.headers.Contact).toBeDefined();
    expect(out.headers.Path).toBe(`<sip:${token}@203.0.113.5:5060;lr>`);
    expect(out.headers.Supported).toBe('path');
    expect(out.headers['Call-ID']).not.toContain('10.0.0.5');
    expect(out.headers.CSeq).toBe('7 REGISTER');
    // Nothing of the phone's addresses goes to the PBX.
    expect(JSON.stringify(out)).not.toMatch(/10\.0\.0\.5|192\.0\.2\.10/);

    // The retry with credentials: the PBX grants 300 s.
    const ok = setup([answer(200, { Contact: `<sip:${token}@203.0.113.5:5060>;expires=300` }, 'OK')]);
    const second = await ok.register({
      CSeq: '8 REGISTER',
      Authorization:
        'Digest username="alice", realm="pbx.example", nonce="n1", uri="sip:pbx.example", response="x"',
    });
    expect(ok.sent[0]?.headers.Authorization).toContain('username="alice"');
    expect(ok.sent[0]?.headers['Call-ID']).toBe(out.headers['Call-ID']);
    expect(second.res.sent[0]).toMatchObject({
      status: 200,
      headers: { Contact: '<sip:alice@10.0.0.5:5060>;expires=300' },
    });
    // The token is the flow, sealed: the same on the refresh, readable with the secret only.
    expect(ok.sent[0]?.headers.Path).toBe(out.headers.Path);
    expect(ok.tokens.open(token ?? '')).toEqual({
      aor: 'sip:alice@pbx.example',
      contactUri: 'sip:alice@10.0.0.5:5060',
      address: '192.0.2.10',
      port: 40000,
      transport: 'udp',
    });
    expect(new FlowTokens('another-secret').open(token ?? '')).toBeUndefined();
    const altered = `${token?.slice(0, -2)}${token?.endsWith('AA') ? 'AB' : 'AA'}`;
    expect(ok.tokens.open(altered)).toBeUndefined();
    expect(ok.successes).toEqual(['192.0.2.10 alice@pbx.example']);
    expect(successes).toHaveLength(0);
  });

  it('counts credentials the PBX refuses towards the source ban, but not a stale nonce', async () => {
    const auth = { Authorization: 'Digest username="alice", realm="pbx.example", nonce="n", response="y"' };
    const refused = setup([answer(403, {}, 'Forbidden')]);
    expect((await refused.register(auth)).res.sent[0]?.status).toBe(403);
    expect(refused.failures).toEqual(['192.0.2.10 alice@pbx.example']);
    const stale = setup([
      answer(401, { 'WWW-Authenticate': 'Digest realm="pbx.example", nonce="n2", stale=true' }),
    ]);
    expect((await stale.register(auth)).res.sent[0]?.status).toBe(401);
    expect(stale.failures).toHaveLength(0);
  });

  it('relays a removal (expires=0) and gives the phone no contact back', async () => {
    const { register, sent } = setup([answer(200, {}, 'OK')]);
    const { res } = await register({ Contact: '<sip:alice@10.0.0.5:5060>;expires=0' });
    expect(sent[0]?.headers.Contact).toMatch(/;expires=0$/);
    expect(res.sent[0]).toMatchObject({ status: 200, headers: {} });
  });

  it('answers 400 to several contacts and 504 when the PBX stays silent', async () => {
    const several = setup([]);
    const two = await several.register({ Contact: '<sip:a@10.0.0.5>, <sip:b@10.0.0.5>' });
    expect(two.res.sent[0]?.status).toBe(400);
    expect(several.sent).toHaveLength(0);
    const silent = setup(['silence']);
    expect((await silent.register()).res.sent[0]?.status).toBe(504);
  });
});
