import { createSocket } from 'node:dgram';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EngineConfig } from '../src/config.ts';
import { startEngine } from '../src/engine.ts';
import { type ServerUnderTest, startServerUnderTest } from './differential/server-under-test.ts';
import { SECRET, silentLogger, waitFor } from './helpers.ts';
import { allocatePort, runSipp, stopAllSipp } from './sipp.ts';
import { Srf, type SrfApp, type SrfRequest } from './srf.ts';

/**
 * The proxy through drachtio-srf's proxyRequest with sipp as caller and callees over UDP: per-branch
 * provisional and final timeouts, Timer C, redirects followed, and the cdr events drachtio-server writes for
 * proxied calls. Each test starts its own engine on ephemeral ports; those without engine-only options drive
 * drachtio-server instead in a differential run (differential/server-under-test.ts).
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(() => stopAllSipp());

type ProxyResult = { finalStatus?: number; responses?: Array<{ msgs: unknown[] }> };

async function proxyEngine(
  destinations: string[],
  opts: Record<string, unknown>,
  config: Partial<EngineConfig> = {},
) {
  const sipListen: EngineConfig['sipListen'] = [{ transport: 'udp', host: '127.0.0.1', port: 0 }];
  // an engine-only option (Timer C of 1 s) has no drachtio-server equivalent: that test always runs the engine
  const engine: ServerUnderTest =
    Object.keys(config).length === 0
      ? await startServerUnderTest({ sipListen, engineSecret: SECRET })
      : await startEngine(
          { sipListen, engineAdmin: { host: '127.0.0.1', port: 0 }, engineSecret: SECRET, ...config },
          { logger: silentLogger },
        );
  cleanups.push(() => engine.close());
  const state: { result: ProxyResult | undefined; error: unknown; cdrs: string[] } = {
    result: undefined,
    error: undefined,
    cdrs: [],
  };
  const srf: SrfApp = new Srf();
  srf.on('error', () => {});
  for (const kind of ['attempt', 'start', 'stop']) {
    // srf calls (source, time, sipMsg) for attempt and (source, time, roleOrReason, sipMsg) otherwise
    srf.on(`cdr:${kind}`, (source: string, _time: string, extra: unknown) =>
      state.cdrs.push(kind === 'attempt' ? `${kind} ${source}` : `${kind} ${source} ${String(extra)}`),
    );
  }
  srf.invite((req: SrfRequest) => {
    (srf.proxyRequest(req, destinations, opts as never) as unknown as Promise<unknown>).then(
      (r) => {
        state.result = r as unknown as ProxyResult;
      },
      (err: unknown) => {
        state.error = err;
      },
    );
  });
  const connected = new Promise<void>((resolve) => srf.on('connect', () => resolve()));
  srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
  await connected;
  cleanups.push(() => srf.disconnect());
  return { state, port: engine.listeners[0]!.port };
}

function expectSippOk(result: { code: number | null; stdout: string; stderr: string }) {
  if (result.code !== 0)
    throw new Error(
      `sipp exited ${result.code}\n${result.stderr.slice(-2000)}\n${result.stdout.slice(-3000)}`,
    );
}

/** A callee that rings and is cancelled, then one that answers; the caller places one call and hangs up. */
async function ringThenAnswer(opts: Record<string, unknown>, config: Partial<EngineConfig> = {}) {
  const ringPort = await allocatePort();
  const answerPort = await allocatePort();
  const { state, port } = await proxyEngine(
    [`sip:b1@127.0.0.1:${ringPort}`, `sip:b2@127.0.0.1:${answerPort}`],
    { remainInDialog: true, ...opts },
    config,
  );
  // the ringing callee's scenario fails unless the engine cancels it
  const ring = runSipp({ scenario: 'uas-invite-ring-cancel.xml', port: ringPort });
  const answer = runSipp({ scenario: 'uas-invite.xml', port: answerPort });
  cleanups.push(
    () => ring.stop(),
    () => answer.stop(),
  );
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  const caller = runSipp({
    scenario: 'uac-invite.xml',
    port: await allocatePort(),
    remote: `127.0.0.1:${port}`,
  });
  expectSippOk(await caller.done);
  const elapsed = Date.now() - started;
  expectSippOk(await ring.done);
  expectSippOk(await answer.done);
  await waitFor(() => state.result !== undefined, 'the proxy result');
  return { state, elapsed };
}

describe('proxyRequest', () => {
  it('finalTimeout cancels a ringing branch and the next one answers; cdr events as drachtio-server writes them', async () => {
    const { state, elapsed } = await ringThenAnswer({ finalTimeout: '1s' });
    expect(state.result!.finalStatus).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    await waitFor(() => state.cdrs.length >= 8, 'eight cdr events');
    expect([...state.cdrs].sort()).toEqual(
      [
        'attempt network', // the caller's INVITE reached the engine
        'attempt application', // branch 1
        'stop network call-canceled', // branch 1 answered 487 to our CANCEL
        'attempt application', // branch 2
        'start network proxy-uac', // branch 2 answered
        'start application proxy-uas', // the 200 went upstream
        'stop network normal-release', // the caller's BYE came in
        'stop application normal-release', // and went on to the callee
      ].sort(),
    );
  });

  it('Timer C cancels a branch that rings without a final response', async () => {
    // 185 s by default; one second here
    const { state, elapsed } = await ringThenAnswer({}, { proxyTimerCMs: 1000 });
    expect(state.result!.finalStatus).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
  });

  it('provisionalTimeout moves on from a branch that sends nothing', async () => {
    // a callee that swallows the INVITE: no 100, no 180
    const silent = createSocket('udp4');
    let swallowed = 0;
    silent.on('message', () => {
      swallowed++;
    });
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const answerPort = await allocatePort();
    const { state, port } = await proxyEngine(
      [`sip:b1@127.0.0.1:${silent.address().port}`, `sip:b2@127.0.0.1:${answerPort}`],
      { remainInDialog: true, provisionalTimeout: '1s' },
    );
    const answer = runSipp({ scenario: 'uas-invite.xml', port: answerPort });
    cleanups.push(() => answer.stop());
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const caller = runSipp({
      scenario: 'uac-invite.xml',
      port: await allocatePort(),
      remote: `127.0.0.1:${port}`,
    });
    expectSippOk(await caller.done);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expectSippOk(await answer.done);
    await waitFor(() => state.result !== undefined, 'the proxy result');
    expect(state.result!.finalStatus).toBe(200);
    expect(swallowed).toBeGreaterThan(0);
  });

  it('followRedirects tries the Contact of a 302', async () => {
    const redirectPort = await allocatePort();
    const answerPort = await allocatePort();
    const { state, port } = await proxyEngine([`sip:b1@127.0.0.1:${redirectPort}`], {
      remainInDialog: true,
      followRedirects: true,
    });
    const redirect = runSipp({
      scenario: 'uas-invite-redirect.xml',
      port: redirectPort,
      extraArgs: ['-key', 'target', `sip:b2@127.0.0.1:${answerPort}`],
    });
    const answer = runSipp({ scenario: 'uas-invite.xml', port: answerPort });
    cleanups.push(
      () => redirect.stop(),
      () => answer.stop(),
    );
    await new Promise((r) => setTimeout(r, 300));
    const caller = runSipp({
      scenario: 'uac-invite.xml',
      port: await allocatePort(),
      remote: `127.0.0.1:${port}`,
    });
    expectSippOk(await caller.done);
    expectSippOk(await redirect.done);
    expectSippOk(await answer.done);
    await waitFor(() => state.result !== undefined, 'the proxy result');
    expect(state.result!.finalStatus).toBe(200);
    // the 302, then the 200 of the redirect target
    expect(state.result!.responses!.flatMap((r) => r.msgs).length).toBe(2);
  });
});
