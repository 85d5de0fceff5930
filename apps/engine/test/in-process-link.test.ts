import { afterEach, describe, expect, it } from 'vitest';
import { InProcessLink } from '../src/admin/in-process-link.ts';
import {
  cleanups,
  inDialogFromFarEnd,
  inviteFromFarEnd,
  optionsFromFarEnd,
  setup,
} from './bridge-harness.ts';
import { waitFor } from './helpers.ts';
import { farResponse } from './loopback-stack.ts';
import { type Dialog, Srf, type SrfResponse, sendRequest } from './srf.ts';

/**
 * An app in the engine's process connected through the in-process link instead of the admin socket (the
 * all-in-one launcher's sip-core): the same wire protocol end to end, with real drachtio-srf.
 */

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('the in-process link', () => {
  it('authenticates, routes and answers a request from the network', async () => {
    const { stack, admin, connect } = await setup();
    await connect(
      (srf) => srf.options((_req, res) => res.send(200, { headers: { 'X-App': 'linked' } })),
      'link',
    );
    const linked = [...admin.apps].find((app) => app.remoteAddress === 'in-process');
    expect(linked?.state).toBe('authenticated');
    const far = stack.inject(optionsFromFarEnd());
    await waitFor(() => far.responses.length === 1, 'the app answer');
    expect(far.responses[0]!.status).toBe(200);
    expect(far.responses[0]!.getHeader('x-app')).toBe('linked');
  });

  it('carries a whole INVITE dialog both ways: 200, ACK, BYE from the network', async () => {
    const { stack, bridge, connect } = await setup();
    const dialogs: Dialog[] = [];
    let destroyed = false;
    await connect(
      (srf) =>
        srf.invite(async (req, res) => {
          const dialog = await srf.createUAS(req, res, { localSdp: 'v=0\r\no=app 1 1 IN IP4 192.0.2.1\r\n' });
          dialog.on('destroy', () => {
            destroyed = true;
          });
          dialogs.push(dialog);
        }),
      'link',
    );
    const far = stack.inject(inviteFromFarEnd());
    await waitFor(() => far.responses.some((r) => r.status === 200), 'the 200');
    const toTag = far.responses.find((r) => r.status === 200)!.toTag!;
    stack.inject(inDialogFromFarEnd('ACK', far.request, toTag, 1));
    await waitFor(() => dialogs.length === 1, 'the dialog');
    const bye = stack.inject(inDialogFromFarEnd('BYE', far.request, toTag, 2));
    await waitFor(() => bye.responses.length === 1 && destroyed, 'BYE answered, dialog gone');
    expect(bye.responses[0]!.status).toBe(200);
    expect(bridge.dialogs.size).toBe(0);
  });

  it("sends an app's request and hands the response back", async () => {
    const { stack, connect } = await setup();
    const srf = await connect(() => {}, 'link');
    const status = new Promise<number>((resolve, reject) => {
      sendRequest(
        srf,
        'sip:bob@127.0.0.1:5070',
        { method: 'MESSAGE', headers: { 'Content-Type': 'text/plain' }, body: 'over the link' },
        (err, req) => {
          if (err || !req) return reject(err);
          req.on('response', (res?: SrfResponse) => resolve(res?.status as number));
        },
      );
    });
    await waitFor(() => stack.sent.length === 1, 'the MESSAGE');
    expect(stack.sent[0]!.request.body.toString()).toBe('over the link');
    stack.sent[0]!.respond(farResponse(stack.sent[0]!.request, 202, 'Accepted'));
    expect(await status).toBe(202);
  });

  it('refuses a wrong secret as on a socket, and the app sees the link close', async () => {
    const { admin } = await setup();
    const srf = new Srf();
    const errors: Error[] = [];
    srf.on('error', (err: Error) => errors.push(err));
    let closed = false;
    const socket = admin.linkInProcess();
    socket.on('close', () => {
      closed = true;
    });
    srf.connect({ host: '127.0.0.1', port: 1, secret: 'not-the-secret', socket });
    await waitFor(() => closed, 'the link closed', 5_000);
    expect(admin.counters.authFailures).toBe(1);
    expect(admin.apps.size).toBe(0);
  });

  it('answers the pending request of an app that disconnects with 503', async () => {
    const { stack, connect } = await setup();
    let received = false;
    const srf = await connect(
      (s) =>
        s.invite(() => {
          received = true;
        }),
      'link',
    );
    const far = stack.inject(inviteFromFarEnd());
    await waitFor(() => received, 'the INVITE at the app');
    srf.disconnect();
    await waitFor(() => far.responses.some((r) => r.status === 503), 'the 503');
  });
});

describe('InProcessLink', () => {
  it('delivers in order once the sender returns, never inside its call', async () => {
    const link = new InProcessLink(() => {});
    const atEngine: string[] = [];
    const atApp: string[] = [];
    link.engineEnd.start(
      (payload) => atEngine.push(payload),
      () => {},
    );
    link.appEnd.on('data', (payload: string) => atApp.push(payload));
    link.appEnd.writeMessage('1|a');
    link.appEnd.writeMessage('2|b');
    link.engineEnd.send('3|c');
    expect(atEngine).toEqual([]);
    expect(atApp).toEqual([]);
    await waitFor(() => atEngine.length === 2 && atApp.length === 1, 'both directions');
    expect(atEngine).toEqual(['1|a', '2|b']);
    expect(atApp).toEqual(['3|c']);
  });

  it('delivers a last payload before closing, then nothing more; both ends see the close once', async () => {
    const link = new InProcessLink(() => {});
    const atApp: string[] = [];
    let engineClosed = 0;
    let appClosed = 0;
    link.engineEnd.start(
      () => {},
      () => engineClosed++,
    );
    link.appEnd.on('data', (payload: string) => atApp.push(payload));
    link.appEnd.on('close', () => appClosed++);
    link.engineEnd.end('9|bye');
    link.engineEnd.send('10|too late');
    await waitFor(() => engineClosed === 1 && appClosed === 1, 'the close');
    await new Promise((resolve) => setImmediate(resolve));
    expect(atApp).toEqual(['9|bye']);
    expect([engineClosed, appClosed]).toEqual([1, 1]);
    expect(link.appEnd.destroyed).toBe(true);
  });

  it('keeps delivering after a receiver throws, and reports the failure', async () => {
    const failures: unknown[] = [];
    const link = new InProcessLink((err) => failures.push(err));
    const atEngine: string[] = [];
    link.engineEnd.start(
      (payload) => {
        if (payload === 'bad') throw new Error('receiver failed');
        atEngine.push(payload);
      },
      () => {},
    );
    link.appEnd.writeMessage('bad');
    link.appEnd.writeMessage('good');
    await waitFor(() => atEngine.length === 1, 'the delivery after the failure');
    expect(atEngine).toEqual(['good']);
    expect((failures[0] as Error).message).toBe('receiver failed');
  });
});
