import { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { UpstreamPbx } from '../../src/directory/directory.ts';
import { sanity } from '../../src/middleware/sanity.ts';
import { FlowTokens } from '../../src/pbx/fronted-flows.ts';
import {
  type DialogRequest,
  type DialogResponse,
  type RelayedDialog,
  relaySubscribe,
  type SubscriptionRelaySrf,
} from '../../src/pbx/subscribe-relay.ts';
import type { SrfResponse } from '../../src/sip/srf-request.ts';
import { FakeRequest, FakeResponse } from '../support/fakes.ts';

/**
 * The SUBSCRIBE relay of fronted domains (pbx/subscribe-relay.ts) against scripted drachtio-srf
 * dialogs: what goes to the PBX, a refusal relayed and counted, and the two dialogs tied (a NOTIFY
 * arriving before the phone's dialog exists waits for it; refresh and unsubscribe go on).
 */

const PBX: UpstreamPbx = { gatewayId: 'gw-1', host: '198.51.100.7', port: 5080, transport: 'udp' };

function answer(status: number, headers: Record<string, string> = {}): SrfResponse {
  return { status, reason: '', get: (name) => headers[name] };
}

/** A scripted drachtio-srf dialog: records its requests, answers them with `replies` in turn. */
class FakeDialog extends EventEmitter {
  readonly requests: Array<{ method: string; headers: Record<string, string>; body?: string }> = [];
  constructor(
    private readonly replies: SrfResponse[],
    readonly res?: SrfResponse,
  ) {
    super();
  }
  request(options: { method: string; headers: Record<string, string>; body?: string }) {
    this.requests.push(options);
    return Promise.resolve(this.replies.shift() ?? answer(200));
  }
}

/** A response of a dialog's incoming request; `sent` resolves with what was answered. */
function dialogResponse() {
  let resolve!: (value: { status: number; headers?: Record<string, string> }) => void;
  const sent = new Promise<{ status: number; headers?: Record<string, string> }>((r) => {
    resolve = r;
  });
  const res: DialogResponse = { send: (status, _reason, options) => resolve({ status, ...options }) };
  return { res, sent };
}

const incoming = (headers: Record<string, string>, body = ''): DialogRequest => ({
  get: (name) => headers[name],
  body,
});

function setup(upstream: { error?: unknown; dialog?: FakeDialog }) {
  const failures: string[] = [];
  const sent: Array<{ uri: string; proxy: string; headers: Record<string, string> }> = [];
  const phone = new FakeDialog([answer(200), answer(200), answer(200)]);
  let accepted: Record<string, string> | undefined;
  let acceptPhone: () => void = () => {};
  const phoneAccepted = new Promise<void>((resolve) => {
    acceptPhone = resolve;
  });
  const srf: SubscriptionRelaySrf = {
    createUAC(uri, options, _callbacks, callback) {
      sent.push({ uri, proxy: options.proxy, headers: options.headers });
      if (upstream.dialog) {
        callback(null, upstream.dialog as unknown as RelayedDialog);
        // The PBX's first NOTIFY follows its 2xx at once, before the phone's dialog exists.
        upstream.dialog.emit('notify', ...firstNotify);
      } else callback(upstream.error as never, undefined as never);
      return undefined;
    },
    async createUAS(_req, _res, options) {
      accepted = options.headers;
      await phoneAccepted;
      return phone;
    },
  };
  const firstNotify: [DialogRequest, DialogResponse] = [
    incoming(
      {
        Event: 'message-summary',
        'Subscription-State': 'active;expires=120',
        'Content-Type': 'application/simple-message-summary',
        Via: 'SIP/2.0/UDP 198.51.100.7:5080;branch=z9hG4bKpbx',
      },
      'Messages-Waiting: yes\r\n',
    ),
    dialogResponse().res,
  ];
  const relay = relaySubscribe({
    directory: { upstreamPbx: (host) => (host === 'pbx.example' ? PBX : undefined) },
    bans: {
      recordFailure: async (address, user) => {
        failures.push(`${address} ${user}`);
        return { addressBanned: false, delayMs: 0 };
      },
      recordSuccess: () => {},
    },
    tokens: new FlowTokens('test-secret'),
    srf,
    log: pino({ level: 'silent' }),
  });
  async function subscribe(from: string, headers: Record<string, string> = {}) {
    const req = new FakeRequest('SUBSCRIBE', 'sip:alice@pbx.example', {
      Via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1;rport',
      From: `<sip:alice@${from}>;tag=phone-tag`,
      To: `<sip:alice@${from}>`,
      'Call-ID': 'phone-call-id@192.0.2.10',
      CSeq: '2 SUBSCRIBE',
      'Max-Forwards': '70',
      Contact: '<sip:alice@192.0.2.10:5060>',
      Event: 'message-summary',
      Expires: '600',
      ...headers,
    });
    req.locals = { source: { address: '192.0.2.10', port: 5060, transport: 'udp', trusted: false } };
    Object.assign(req, { srf: { req: {} as Srf.SrfRequest, res: {} as Srf.SrfResponse } });
    const res = new FakeResponse();
    let passedOn = false;
    await sanity()(req, res, () => {});
    const done = relay(req, res, () => {
      passedOn = true;
    });
    return { res, done, passedOn: () => passedOn };
  }
  return { sent, failures, phone, subscribe, acceptPhone, accepted: () => accepted, firstNotify };
}

describe('SUBSCRIBE relay of a fronted domain', () => {
  it("sends a phone's SUBSCRIBE to its PBX; the PBX's refusal of its credentials goes back and counts", async () => {
    const challenge = answer(401, { 'WWW-Authenticate': 'Digest realm="pbx.example", nonce="n2"' });
    const { sent, failures, subscribe } = setup({ error: { status: 401, res: challenge } });
    const { res, done } = await subscribe('pbx.example', { Authorization: 'Digest username="alice"' });
    await done;
    expect(sent[0]).toMatchObject({
      uri: 'sip:alice@pbx.example',
      proxy: 'sip:198.51.100.7:5080;transport=udp',
      headers: {
        From: '<sip:alice@pbx.example>',
        To: '<sip:alice@pbx.example>',
        CSeq: '2 SUBSCRIBE',
        Event: 'message-summary',
        Expires: '600',
        Authorization: 'Digest username="alice"',
      },
    });
    expect(sent[0]?.headers['Call-ID']).toMatch(/@sbc$/);
    expect(sent[0]?.headers['Call-ID']).not.toContain('192.0.2.10');
    expect(res.sent).toEqual([
      {
        status: 401,
        reason: '',
        headers: { 'WWW-Authenticate': 'Digest realm="pbx.example", nonce="n2"' },
      },
    ]);
    expect(failures).toEqual(['192.0.2.10 alice@pbx.example']);
  });

  it('ties the dialogs: the first NOTIFY waits for the phone, refresh and unsubscribe go to the PBX', async () => {
    const pbx = new FakeDialog(
      [answer(200, { Expires: '300' }), answer(200)],
      answer(200, { Expires: '120' }),
    );
    const { phone, subscribe, acceptPhone, accepted } = setup({ dialog: pbx });
    const { done } = await subscribe('pbx.example');
    // The PBX's NOTIFY came before the phone's dialog: nothing is sent until it exists.
    await new Promise((resolve) => setImmediate(resolve));
    expect(phone.requests).toEqual([]);
    acceptPhone();
    await done;
    expect(accepted()).toEqual({ Expires: '120' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(phone.requests[0]).toEqual({
      method: 'NOTIFY',
      headers: {
        Event: 'message-summary',
        'Subscription-State': 'active;expires=120',
        'Content-Type': 'application/simple-message-summary',
      },
      body: 'Messages-Waiting: yes\r\n',
    });
    const refresh = dialogResponse();
    phone.emit('subscribe', incoming({ Expires: '300', Event: 'message-summary' }), refresh.res);
    expect(await refresh.sent).toEqual({ status: 200, headers: { Expires: '300' } });
    expect(pbx.requests[0]).toEqual({
      method: 'SUBSCRIBE',
      headers: { Event: 'message-summary', Expires: '300' },
    });
    phone.emit('unsubscribe');
    expect(pbx.requests[1]).toEqual({
      method: 'SUBSCRIBE',
      headers: { Event: 'message-summary', Expires: '0' },
    });
  });

  it("leaves other senders' SUBSCRIBEs to the platform's own notifier", async () => {
    const { sent, subscribe } = setup({ error: { status: 500 } });
    const own = await subscribe('example.test');
    await own.done;
    expect(own.passedOn()).toBe(true);
    expect(sent).toEqual([]);
  });
});
