import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type RunningEngine, startEngine } from '../src/engine.ts';
import { SECRET, silentLogger, waitFor } from './helpers.ts';
import { allocatePort, runSipp, stopAllSipp } from './sipp.ts';
import { Srf, type SrfApp } from './srf.ts';

/**
 * RFC 4028 session timers through the whole engine, with sipp as the peer and intervals of a few seconds: the
 * engine runs with a Min-SE of 1 s (minSessionExpires, 90 by default) so that refreshes and expiry happen
 * within a test. Each test starts its own engine on ephemeral ports.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(() => stopAllSipp());

const SDP =
  'v=0\r\no=app 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';

async function engineWithApp(configure: (srf: SrfApp) => void = () => {}) {
  const engine: RunningEngine = await startEngine(
    {
      sipListen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: SECRET,
      minSessionExpires: 1,
    },
    { logger: silentLogger },
  );
  cleanups.push(() => engine.close());
  const srf = new Srf();
  srf.on('error', () => {});
  const cdrStops: string[] = [];
  srf.on('cdr:stop', (_source: string, _time: string, reason: string) => cdrStops.push(reason));
  configure(srf);
  const connected = new Promise<void>((resolve) => srf.on('connect', () => resolve()));
  srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
  await connected;
  cleanups.push(() => srf.disconnect());
  return { engine, srf, udpPort: engine.listeners[0]!.port, cdrStops };
}

function expectSippOk(result: { code: number | null; stdout: string; stderr: string }) {
  if (result.code !== 0)
    throw new Error(
      `sipp exited ${result.code}\n${result.stderr.slice(-2000)}\n${result.stdout.slice(-3000)}`,
    );
}

describe('session timers as UAC (the app created the dialog)', () => {
  it('refreshes with a re-INVITE at half the interval, again after each refresh, without the app', async () => {
    const { srf } = await engineWithApp();
    const sippPort = await allocatePort();
    // sipp answers with Session-Expires: 4;refresher=uac, checks two refreshing re-INVITEs, then hangs up
    const uas = runSipp({ scenario: 'uas-invite-session-refresh.xml', port: sippPort, timeoutS: 30 });
    cleanups.push(() => uas.stop());
    await new Promise((r) => setTimeout(r, 300));
    const modified: string[] = [];
    const dialog = await srf.createUAC(`sip:callee@127.0.0.1:${sippPort}`, {
      localSdp: SDP,
      headers: { Supported: 'timer', 'Session-Expires': '4' },
    });
    dialog.on('modify', () => modified.push('modify'));
    let ended = false;
    dialog.on('destroy', () => {
      ended = true;
    });
    expectSippOk(await uas.done);
    await waitFor(() => ended, 'the callee hanging up');
    // the refreshes are the engine's own business: the app saw none of them
    expect(modified).toEqual([]);
  }, 40_000);

  it('ends the call with a BYE when the refresh fails, and tells the app', async () => {
    const { srf, cdrStops } = await engineWithApp();
    const sippPort = await allocatePort();
    const uas = runSipp({ scenario: 'uas-invite-refresh-fail.xml', port: sippPort, timeoutS: 30 });
    cleanups.push(() => uas.stop());
    await new Promise((r) => setTimeout(r, 300));
    const dialog = await srf.createUAC(`sip:callee@127.0.0.1:${sippPort}`, {
      localSdp: SDP,
      headers: { Supported: 'timer', 'Session-Expires': '4' },
    });
    let ended = false;
    dialog.on('destroy', () => {
      ended = true;
    });
    expectSippOk(await uas.done);
    await waitFor(() => ended, 'the dialog to end in the app');
    await waitFor(() => cdrStops.includes('session-expired'), 'cdr:stop session-expired');
  }, 40_000);

  it('sends BYE when the callee that should refresh does not', async () => {
    const { srf } = await engineWithApp();
    const sippPort = await allocatePort();
    const uas = runSipp({ scenario: 'uas-invite-session-expire.xml', port: sippPort, timeoutS: 30 });
    cleanups.push(() => uas.stop());
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const dialog = await srf.createUAC(`sip:callee@127.0.0.1:${sippPort}`, {
      localSdp: SDP,
      headers: { Supported: 'timer', 'Session-Expires': '3' },
    });
    let endedAfter = 0;
    dialog.on('destroy', () => {
      endedAfter = Date.now() - started;
    });
    expectSippOk(await uas.done);
    await waitFor(() => endedAfter > 0, 'the dialog to end in the app');
    // 3 - min(32, 3/3) = 2 s after the 2xx, not before
    expect(endedAfter).toBeGreaterThanOrEqual(1900);
  }, 40_000);
});

describe('session timers as UAS', () => {
  it('sends BYE when the caller that should refresh does not', async () => {
    let ended = false;
    const { udpPort } = await engineWithApp((srf) =>
      srf.invite(async (req, res) => {
        const dlg = await srf.createUAS(req, res, { localSdp: SDP });
        dlg.on('destroy', () => {
          ended = true;
        });
      }),
    );
    const uac = runSipp({
      scenario: 'uac-invite-session-expire.xml',
      port: await allocatePort(),
      remote: `127.0.0.1:${udpPort}`,
      timeoutS: 30,
    });
    expectSippOk(await uac.done);
    await waitFor(() => ended, 'the dialog to end in the app');
  }, 40_000);

  it('refreshes itself when the caller asks it to (refresher=uas)', async () => {
    let ended = false;
    const { udpPort } = await engineWithApp((srf) =>
      srf.invite(async (req, res) => {
        const dlg = await srf.createUAS(req, res, { localSdp: SDP });
        dlg.on('destroy', () => {
          ended = true;
        });
      }),
    );
    const uac = runSipp({
      scenario: 'uac-invite-session-uas-refresh.xml',
      port: await allocatePort(),
      remote: `127.0.0.1:${udpPort}`,
      timeoutS: 30,
    });
    expectSippOk(await uac.done);
    await waitFor(() => ended, 'the caller hanging up');
  }, 40_000);
});
