import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppConnection } from '../src/admin/app-connection.ts';
import { AppRegistry } from '../src/admin/app-registry.ts';
import { DrachtioBridge } from '../src/bridge/drachtio-bridge.ts';
import { waitFor } from './helpers.ts';
import { LoopbackStack } from './loopback-stack.ts';

/**
 * A failure inside the engine's handling of a request never leaves the request unanswered (RFC 3261 §8.2):
 * the request gets 500 (engine fault) or 400 (the request's fault) with a Warning, and the failure is logged
 * once. Failures are injected at each stage a network request passes through in the bridge.
 */

function setup() {
  const stack = new LoopbackStack();
  const registry = new AppRegistry<AppConnection>();
  const errors: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'error' },
    { write: (line: string) => errors.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const bridge = new DrachtioBridge({
    stack,
    registry,
    logger,
    answerOptions: true,
    appResponseTimeoutMs: 64_000,
  });
  return { stack, registry, bridge, errors };
}

/** An app connection as the bridge sees it; `send` records (or fails, to inject a failure). */
function fakeApp(send: (payload: string) => void = () => {}): AppConnection {
  const app = { id: 'app-1', isOpen: true, hasTag: () => false, send };
  // The bridge only uses these members of an AppConnection.
  return app as unknown as AppConnection;
}

let seq = 0;
function request(method: string, extra: string[] = [], toTag?: string, callId?: string): string {
  seq++;
  return [
    `${method} sip:service@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKfail${seq}`,
    'From: <sip:alice@127.0.0.1>;tag=far1',
    `To: <sip:service@127.0.0.1>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: ${callId ?? `fail-${seq}`}`,
    `CSeq: ${seq} ${method}`,
    'Contact: <sip:alice@127.0.0.1:5070>',
    'Max-Forwards: 70',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function warningOf(far: { responses: Array<{ getHeader(n: string): string | undefined }> }) {
  return far.responses.at(-1)?.getHeader('warning');
}

describe('a failure while handling a request answers it', () => {
  it('choosing the app fails: 500 with a Warning, logged once', () => {
    const { stack, registry, errors } = setup();
    registry.select = () => {
      throw new Error('injected: registry');
    };
    const far = stack.inject(request('OPTIONS'));
    expect(far.responses.map((r) => r.status)).toEqual([500]);
    expect(warningOf(far)).toMatch(/^399 192\.0\.2\.1 "internal error/);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ what: 'request', method: 'OPTIONS', status: 500 });
  });

  it('handing the request to its app fails: 500 after the 100, logged once', () => {
    const { stack, registry, errors } = setup();
    registry.route(
      fakeApp(() => {
        throw new Error('injected: app socket');
      }),
      'invite',
    );
    const far = stack.inject(request('INVITE'));
    expect(far.responses.map((r) => r.status)).toEqual([100, 500]);
    expect(errors).toHaveLength(1);
  });

  it('telling the app of a CANCEL fails: the INVITE keeps the 487 it already got, the failure is logged once', async () => {
    const { stack, registry, errors } = setup();
    let calls = 0;
    registry.route(
      fakeApp(() => {
        calls += 1;
        if (calls > 1) throw new Error('injected: app socket on CANCEL');
      }),
      'invite',
    );
    const invite = stack.inject(request('INVITE', [], undefined, 'cancel-fail'));
    stack.inject(
      request('CANCEL', [], undefined, 'cancel-fail')
        .replace(/branch=z9hG4bKfail\d+/, `branch=${invite.request.topVia!.branch}`)
        .replace(/CSeq: \d+ CANCEL/, `CSeq: ${invite.request.cseq.seq} CANCEL`),
    );
    await waitFor(() => errors.length === 1, 'the logged failure');
    expect(invite.responses.map((r) => r.status)).toEqual([100, 487]);
    expect(errors[0]).toMatchObject({ what: 'cancel', method: 'INVITE' });
  });

  it('the dialog lookup of an in-dialog request fails: 500', () => {
    const { stack, bridge, errors } = setup();
    bridge.dialogs.matchRequest = () => {
      throw new Error('injected: dialog table');
    };
    const far = stack.inject(request('BYE', [], 'ours'));
    expect(far.responses.map((r) => r.status)).toEqual([500]);
    expect(errors).toHaveLength(1);
  });

  it('a header the handling needs does not parse: 400 naming the problem, and the dialog lives on', async () => {
    const { stack, registry, bridge, errors } = setup();
    const sent: string[] = [];
    const app = fakeApp((payload) => sent.push(payload));
    registry.route(app, 'invite');
    const invite = stack.inject(request('INVITE', [], undefined, 'call-400'));
    await waitFor(() => sent.length === 1, 'the INVITE at the app');
    const txnId = sent[0]!.split('\r\n')[0]!.split('|')[8]!;
    bridge.handleSip(app, {
      msgId: 'm1',
      type: 'sip',
      args: [txnId, ''],
      sip: 'SIP/2.0 200 OK\r\nTo: <sip:service@127.0.0.1>;tag=ours\r\nContent-Length: 0\r\n\r\n',
    });
    await waitFor(() => invite.responses.some((r) => r.status === 200), 'the 200');
    // RFC 3262 §7.2: RAck is three tokens; this one has no numbers at all.
    const prack = stack.inject(request('PRACK', ['RAck: one two INVITE'], 'ours', 'call-400'));
    expect(prack.responses.map((r) => r.status)).toEqual([400]);
    expect(warningOf(prack)).toMatch(/^399 192\.0\.2\.1 ".*rack/i);
    expect(errors).toHaveLength(1);
    // The failed request was forgotten; the dialog still works for the next request.
    const bye = stack.inject(request('BYE', [], 'ours', 'call-400'));
    expect(bye.responses).toEqual([]);
    await waitFor(() => sent.length === 3, 'the BYE at the app');
  });
});
