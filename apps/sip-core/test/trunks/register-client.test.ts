import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { OutOfDialogRequest, SentRequest, SrfResponse } from '../../src/sip/srf-request.ts';
import { RegisterClient } from '../../src/trunks/register-client.ts';

/**
 * The engine side of srf.request, answered by hand: each request is kept with the listener its
 * responses go to, so the test decides when (and whether) a final response arrives.
 */
function handEngine() {
  const sent: Array<{ headers: Record<string, string>; respond: (status: number) => void }> = [];
  return {
    sent,
    request(
      _uri: string,
      options: OutOfDialogRequest,
      callback: (error: unknown, sent: SentRequest) => void,
    ) {
      const listeners: Array<(res: SrfResponse) => void> = [];
      sent.push({
        headers: options.headers ?? {},
        respond: (status) => {
          const res: SrfResponse = { status, get: () => undefined };
          for (const listener of listeners) listener(res);
        },
      });
      callback(null, { on: (_event, listener) => listeners.push(listener) });
    },
  };
}

const SETTINGS = {
  gatewayId: 'gw',
  registrarUri: 'sip:127.0.0.9:5060',
  proxy: 'sip:127.0.0.9:5060',
  transport: 'udp' as const,
  username: 'acme',
  password: 'secret',
  contactUser: 'trunk-1',
  expires: 60,
};

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

it('sends no new REGISTER while the last unanswered one is still in its transaction (RFC 3261 §10.2)', async () => {
  const engine = handEngine();
  const client = new RegisterClient(engine, SETTINGS, 500);

  const first = expect(client.register()).rejects.toThrow('no answer from the registrar');
  await vi.advanceTimersByTimeAsync(500);
  await first;
  expect(engine.sent).toHaveLength(1);

  // The caller tries again: the first REGISTER is still being retransmitted, so nothing is sent.
  const second = client.register();
  await vi.advanceTimersByTimeAsync(5_000);
  expect(engine.sent).toHaveLength(1);

  // Its late final response (here the engine's 408 at Timer F) ends it; the next REGISTER goes out.
  engine.sent[0]?.respond(408);
  await vi.advanceTimersByTimeAsync(0);
  expect(engine.sent).toHaveLength(2);
  expect(engine.sent[1]?.headers.CSeq).toBe('2 REGISTER');
  expect(engine.sent[1]?.headers['Call-ID']).toBe(engine.sent[0]?.headers['Call-ID']);
  engine.sent[1]?.respond(200);
  await expect(second).resolves.toEqual({ ok: true, expires: 60 });
});

it('waits no longer than Timer F when the engine never reports the end', async () => {
  const engine = handEngine();
  const client = new RegisterClient(engine, SETTINGS, 500);
  const first = expect(client.register()).rejects.toThrow('no answer from the registrar');
  await vi.advanceTimersByTimeAsync(500);
  await first;

  const second = client.register();
  // The first went out at 0 ms; Timer F with the margin is 34 s.
  await vi.advanceTimersByTimeAsync(33_000);
  expect(engine.sent).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(600);
  expect(engine.sent).toHaveLength(2);
  engine.sent[1]?.respond(200);
  await expect(second).resolves.toEqual({ ok: true, expires: 60 });
});
