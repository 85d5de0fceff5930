import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ServerUnderTest, startServerUnderTest } from './differential/server-under-test.ts';
import { SECRET, waitFor } from './helpers.ts';
import { allocatePort, runSipp, stopAllSipp } from './sipp.ts';
import { type Dialog, Srf, type SrfApp, type SrfRequest, type SrfResponse, sendRequest } from './srf.ts';

/**
 * Engine contract tests: the real drachtio-srf API drives the engine, sipp plays the far ends over UDP and TCP
 * on loopback. Each test starts its own engine on ephemeral ports. The same tests drive drachtio-server in a
 * differential run (server-under-test.ts; docs/engine.md "Differential check").
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(() => stopAllSipp());

const SDP =
  'v=0\r\no=app 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';

async function engineWithApp(configure: (srf: SrfApp) => void = () => {}) {
  const engine: ServerUnderTest = await startServerUnderTest({
    sipListen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tcp', host: '127.0.0.1', port: 0 },
    ],
    engineSecret: SECRET,
  });
  cleanups.push(() => engine.close());
  const srf = new Srf();
  srf.on('error', () => {});
  configure(srf);
  const connected = new Promise<void>((resolve) => srf.on('connect', () => resolve()));
  srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
  await connected;
  cleanups.push(() => {
    try {
      srf.disconnect();
    } catch {
      // gone
    }
  });
  const port = (transport: 'udp' | 'tcp') => engine.listeners.find((l) => l.transport === transport)!.port;
  return { engine, srf, port };
}

function expectSippOk(result: { code: number | null; stdout: string; stderr: string }) {
  if (result.code !== 0)
    throw new Error(
      `sipp exited ${result.code}\n${result.stderr.slice(-2000)}\n${result.stdout.slice(-3000)}`,
    );
}

describe('advertised address', () => {
  it('is what apps learn on authenticate and what the engine writes into Via and Contact', async () => {
    const engine = await startServerUnderTest({
      sipListen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
      sipAdvertisedAddress: '203.0.113.7',
      engineSecret: SECRET,
    });
    cleanups.push(() => engine.close());
    const srf = new Srf();
    srf.on('error', () => {});
    const hostport = new Promise<string>((resolve) =>
      srf.on('connect', (_e: unknown, hp: string) => resolve(hp)),
    );
    srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
    cleanups.push(() => srf.disconnect());
    const udpPort = engine.listeners[0]!.port;
    expect(await hostport).toBe(`udp/203.0.113.7:${udpPort}`);
    const sippPort = await allocatePort();
    const uas = runSipp({ scenario: 'uas-invite.xml', port: sippPort });
    cleanups.push(() => uas.stop());
    await new Promise((r) => setTimeout(r, 300));
    let sent = '';
    const dialog = await srf.createUAC(
      `sip:callee@127.0.0.1:${sippPort}`,
      { localSdp: SDP },
      {
        cbRequest: ((_e: unknown, req: SrfRequest) => {
          sent = (req as unknown as { raw: string }).raw;
        }) as never,
      },
    );
    expect(sent).toMatch(new RegExp(`Via: SIP/2.0/UDP 203\\.0\\.113\\.7:${udpPort};`));
    expect(sent).toContain(`Contact: <sip:203.0.113.7:${udpPort}>`);
    await dialog.destroy();
    expectSippOk(await uas.done);
  });
});

for (const transport of ['udp', 'tcp'] as const) {
  describe(`over ${transport.toUpperCase()}`, () => {
    it('srf.request: OPTIONS to a sipp UAS gets its 200', async () => {
      const { srf } = await engineWithApp();
      const sippPort = await allocatePort();
      const uas = runSipp({ scenario: 'uas-options.xml', port: sippPort, transport });
      cleanups.push(() => uas.stop());
      await new Promise((r) => setTimeout(r, 300));
      const res = await new Promise<SrfResponse>((resolve, reject) => {
        sendRequest(
          srf,
          `sip:sipp@127.0.0.1:${sippPort};transport=${transport}`,
          { method: 'OPTIONS' },
          (err, req) => {
            if (err || !req) return reject(err);
            req.on('response', (r?: SrfResponse) => r && resolve(r));
          },
        );
      });
      expect(res.status).toBe(200);
      expect(res.get('X-Answered-By')).toBe('sipp-uas');
      expectSippOk(await uas.done);
    });

    it('srf.request: MESSAGE with a body to a sipp UAS', async () => {
      const { srf } = await engineWithApp();
      const sippPort = await allocatePort();
      const uas = runSipp({ scenario: 'uas-message.xml', port: sippPort, transport });
      cleanups.push(() => uas.stop());
      await new Promise((r) => setTimeout(r, 300));
      const status = await new Promise<number>((resolve, reject) => {
        sendRequest(
          srf,
          `sip:sipp@127.0.0.1:${sippPort};transport=${transport}`,
          { method: 'MESSAGE', headers: { 'Content-Type': 'text/plain' }, body: 'hello from srf' },
          (err, req) => {
            if (err || !req) return reject(err);
            req.on('response', (r?: SrfResponse) => r && resolve(r.status as number));
          },
        );
      });
      expect(status).toBe(202);
      expectSippOk(await uas.done);
    });

    it('inbound OPTIONS and REGISTER from a sipp UAC reach the app handlers', async () => {
      const seen: string[] = [];
      const { port } = await engineWithApp((srf) => {
        srf.options((req, res) => {
          seen.push(req.method);
          res.send(200);
        });
        srf.register((req, res) => {
          seen.push(`${req.method} ${req.get('Contact')}`);
          res.send(200, { headers: { Contact: req.get('Contact'), Expires: '60' } });
        });
      });
      const options = runSipp({
        scenario: 'uac-options.xml',
        port: await allocatePort(),
        transport,
        remote: `127.0.0.1:${port(transport)}`,
      });
      expectSippOk(await options.done);
      const register = runSipp({
        scenario: 'uac-register.xml',
        port: await allocatePort(),
        transport,
        remote: `127.0.0.1:${port(transport)}`,
        service: 'alice',
      });
      expectSippOk(await register.done);
      expect(seen[0]).toBe('OPTIONS');
      expect(seen[1]).toMatch(/^REGISTER <sip:alice@127\.0\.0\.1:\d+/);
    });

    it('createUAS: a sipp UAC calls in, 200/ACK, BYE from the caller', async () => {
      let destroyed = false;
      const { port } = await engineWithApp((srf) =>
        srf.invite(async (req, res) => {
          const dlg = await srf.createUAS(req, res, { localSdp: SDP });
          dlg.on('destroy', () => {
            destroyed = true;
          });
        }),
      );
      const uac = runSipp({
        scenario: 'uac-invite.xml',
        port: await allocatePort(),
        transport,
        remote: `127.0.0.1:${port(transport)}`,
      });
      expectSippOk(await uac.done);
      await waitFor(() => destroyed, 'the dialog to end in the app');
    });

    it('createUAC to a sipp UAS, BYE from the app', async () => {
      const { srf } = await engineWithApp();
      const sippPort = await allocatePort();
      const uas = runSipp({ scenario: 'uas-invite.xml', port: sippPort, transport });
      cleanups.push(() => uas.stop());
      await new Promise((r) => setTimeout(r, 300));
      const dialog: Dialog = await srf.createUAC(`sip:callee@127.0.0.1:${sippPort};transport=${transport}`, {
        localSdp: SDP,
      });
      expect(dialog.remote.sdp).toContain('m=audio');
      await dialog.destroy();
      expectSippOk(await uas.done);
    });

    it('createUAC with digest authentication against a challenging sipp UAS', async () => {
      const { srf } = await engineWithApp();
      const sippPort = await allocatePort();
      const uas = runSipp({ scenario: 'uas-invite-auth.xml', port: sippPort, transport });
      cleanups.push(() => uas.stop());
      await new Promise((r) => setTimeout(r, 300));
      const dialog: Dialog = await srf.createUAC(`sip:callee@127.0.0.1:${sippPort};transport=${transport}`, {
        localSdp: SDP,
        auth: { username: 'alice', password: 'secret' },
      });
      await dialog.destroy();
      expectSippOk(await uas.done);
    });

    it('createB2BUA: sipp A -> engine -> app -> engine -> sipp B with early media, BYE from A', async () => {
      const bPort = await allocatePort();
      const { port } = await engineWithApp((srf) =>
        srf.invite(async (req, res) => {
          const { uas, uac } = await srf.createB2BUA(
            req,
            res,
            `sip:callee@127.0.0.1:${bPort};transport=${transport}`,
            {} as never,
          );
          uas.on('destroy', () => uac.destroy());
          uac.on('destroy', () => uas.destroy());
        }),
      );
      const b = runSipp({ scenario: 'uas-invite-early-media.xml', port: bPort, transport });
      cleanups.push(() => b.stop());
      await new Promise((r) => setTimeout(r, 300));
      // the caller's scenario fails unless the callee's 183 and its SDP reach it
      const a = runSipp({
        scenario: 'uac-invite-early-media.xml',
        port: await allocatePort(),
        transport,
        remote: `127.0.0.1:${port(transport)}`,
      });
      expectSippOk(await a.done);
      expectSippOk(await b.done);
    });

    it('createB2BUA: BYE from the callee ends the caller leg', async () => {
      const bPort = await allocatePort();
      const { port } = await engineWithApp((srf) =>
        srf.invite(async (req, res) => {
          const { uas, uac } = await srf.createB2BUA(
            req,
            res,
            `sip:callee@127.0.0.1:${bPort};transport=${transport}`,
            {} as never,
          );
          uas.on('destroy', () => uac.destroy());
          uac.on('destroy', () => uas.destroy());
        }),
      );
      const b = runSipp({ scenario: 'uas-invite-hangup.xml', port: bPort, transport });
      cleanups.push(() => b.stop());
      await new Promise((r) => setTimeout(r, 300));
      const a = runSipp({
        scenario: 'uac-invite-wait-bye.xml',
        port: await allocatePort(),
        transport,
        remote: `127.0.0.1:${port(transport)}`,
      });
      expectSippOk(await a.done);
      expectSippOk(await b.done);
    });

    it('createB2BUA: a failure from the callee goes back to the caller', async () => {
      const bPort = await allocatePort();
      const { port } = await engineWithApp((srf) =>
        srf.invite(async (req, res) => {
          try {
            await srf.createB2BUA(
              req,
              res,
              `sip:callee@127.0.0.1:${bPort};transport=${transport}`,
              {} as never,
            );
          } catch {
            // passed to the caller by createB2BUA
          }
        }),
      );
      const b = runSipp({ scenario: 'uas-invite-busy.xml', port: bPort, transport });
      cleanups.push(() => b.stop());
      await new Promise((r) => setTimeout(r, 300));
      const a = runSipp({
        scenario: 'uac-invite-busy.xml',
        port: await allocatePort(),
        transport,
        remote: `127.0.0.1:${port(transport)}`,
      });
      expectSippOk(await a.done);
      expectSippOk(await b.done);
    });

    it('CANCEL from the caller: 200 to the CANCEL, 487 to the INVITE, the app hears of it', async () => {
      let canceled = false;
      const { port } = await engineWithApp((srf) =>
        srf.invite((req: SrfRequest, res: SrfResponse) => {
          req.on('cancel', () => {
            canceled = true;
          });
          res.send(180);
        }),
      );
      const a = runSipp({
        scenario: 'uac-invite-cancel.xml',
        port: await allocatePort(),
        transport,
        remote: `127.0.0.1:${port(transport)}`,
      });
      expectSippOk(await a.done);
      await waitFor(() => canceled, 'the cancel event');
    });

    it('INFO and re-INVITE inside a dialog reach the app', async () => {
      const events: string[] = [];
      const { port } = await engineWithApp((srf) =>
        srf.invite(async (req, res) => {
          const dlg = await srf.createUAS(req, res, { localSdp: SDP });
          dlg.on('info', (info: SrfRequest, infoRes: SrfResponse) => {
            events.push(`info ${info.get('Content-Type')}`);
            infoRes.send(200);
          });
          dlg.on('modify', (_reinvite: SrfRequest, reinviteRes: SrfResponse) => {
            events.push('modify');
            reinviteRes.send(200, { body: SDP });
          });
        }),
      );
      const a = runSipp({
        scenario: 'uac-invite-indialog.xml',
        port: await allocatePort(),
        transport,
        remote: `127.0.0.1:${port(transport)}`,
      });
      expectSippOk(await a.done);
      expect(events).toEqual(['info application/dtmf-relay', 'modify']);
    });

    it('proxyRequest serial with Record-Route: the first callee is busy, the second answers; ACK and BYE pass through', async () => {
      const busyPort = await allocatePort();
      const answerPort = await allocatePort();
      let result: { finalStatus?: number; responses?: Array<{ msgs: unknown[] }> } | undefined;
      const { port } = await engineWithApp((srf) =>
        srf.invite(async (req) => {
          result = (await srf.proxyRequest(
            req,
            [
              `sip:b1@127.0.0.1:${busyPort};transport=${transport}`,
              `sip:b2@127.0.0.1:${answerPort};transport=${transport}`,
            ],
            { forking: 'serial', remainInDialog: true } as never,
          )) as unknown as typeof result;
        }),
      );
      const busy = runSipp({ scenario: 'uas-invite-busy.xml', port: busyPort, transport });
      const answer = runSipp({ scenario: 'uas-invite.xml', port: answerPort, transport });
      cleanups.push(
        () => busy.stop(),
        () => answer.stop(),
      );
      await new Promise((r) => setTimeout(r, 300));
      const a = runSipp({
        scenario: 'uac-invite.xml',
        port: await allocatePort(),
        transport,
        remote: `127.0.0.1:${port(transport)}`,
      });
      expectSippOk(await a.done);
      expectSippOk(await busy.done);
      expectSippOk(await answer.done);
      await waitFor(() => result !== undefined, 'the proxy result');
      expect(result!.finalStatus).toBe(200);
      // one final response per branch: the 486, then the 200
      expect(result!.responses!.flatMap((r) => r.msgs).length).toBe(2);
    });

    it('proxyRequest simultaneous: the losing fork is cancelled', async () => {
      const losePort = await allocatePort();
      const winPort = await allocatePort();
      const { port } = await engineWithApp((srf) =>
        srf.invite((req) => {
          void srf.proxyRequest(
            req,
            [
              `sip:b1@127.0.0.1:${losePort};transport=${transport}`,
              `sip:b2@127.0.0.1:${winPort};transport=${transport}`,
            ],
            // sipp sends everything to the address it was given, so the engine must stay in the dialog
            { forking: 'simultaneous', remainInDialog: true } as never,
          );
        }),
      );
      const lose = runSipp({ scenario: 'uas-invite-ring-cancel.xml', port: losePort, transport });
      const win = runSipp({ scenario: 'uas-invite.xml', port: winPort, transport });
      cleanups.push(
        () => lose.stop(),
        () => win.stop(),
      );
      await new Promise((r) => setTimeout(r, 300));
      const a = runSipp({
        scenario: 'uac-invite.xml',
        port: await allocatePort(),
        transport,
        remote: `127.0.0.1:${port(transport)}`,
      });
      expectSippOk(await a.done);
      expectSippOk(await lose.done);
      expectSippOk(await win.done);
    });
  });
}
