import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanups,
  inDialogFromFarEnd,
  inviteFromFarEnd,
  optionsFromFarEnd,
  setup,
} from './bridge-harness.ts';
import { waitFor } from './helpers.ts';
import { farResponse, PEER } from './loopback-stack.ts';
import { type Dialog, type SrfRequest, type SrfResponse, sendRequest } from './srf.ts';

/**
 * The drachtio bridge driven by the real drachtio-srf API, with the far end played in-process by the test
 * (LoopbackStack): what apps send is completed correctly, what the network sends reaches the right app, and
 * the engine does on its own what drachtio-srf relies on.
 */

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('requests from the network to apps', () => {
  it('hands an OPTIONS to the app that routes it and sends its answer with the transaction headers', async () => {
    const { stack, connect } = await setup();
    await connect((srf) =>
      srf.options((_req: SrfRequest, res: SrfResponse) => res.send(200, { headers: { 'X-App': 'yes' } })),
    );
    const far = stack.inject(optionsFromFarEnd());
    await waitFor(() => far.responses.length === 1, 'the app answer');
    const res = far.responses[0]!;
    expect(res.status).toBe(200);
    expect(res.getHeader('x-app')).toBe('yes');
    expect(res.getHeader('via')).toBe(far.request.getHeader('via'));
    expect(res.callId).toBe(far.request.callId);
    expect(res.getHeader('cseq')).toBe('7 OPTIONS');
    expect(res.toTag).toBeTruthy();
  });

  it('answers OPTIONS itself when no app routes them, unless configured not to', async () => {
    const on = await setup();
    const far = on.stack.inject(optionsFromFarEnd());
    expect(far.responses.map((r) => r.status)).toEqual([200]);
    const off = await setup({ answerOptions: false });
    const far2 = off.stack.inject(optionsFromFarEnd());
    expect(far2.responses.map((r) => r.status)).toEqual([503]);
  });

  it('round-robins new requests between two apps routing the verb', async () => {
    const { stack, connect } = await setup();
    const seen: string[] = [];
    await connect((srf) => srf.options((_req, res) => res.send(200, { headers: { 'X-App': 'one' } })));
    await connect((srf) => srf.options((_req, res) => res.send(200, { headers: { 'X-App': 'two' } })));
    for (let i = 0; i < 4; i++) {
      const far = stack.inject(optionsFromFarEnd());
      await waitFor(() => far.responses.length === 1, 'answer');
      seen.push(far.responses[0]!.getHeader('x-app')!);
    }
    expect(seen[0]).not.toBe(seen[1]);
    expect([seen[2], seen[3]]).toEqual([seen[0], seen[1]]);
  });

  it('createUAS: 100 Trying at once, 200 with Contact and SDP, ACK and BYE reach the dialog', async () => {
    const { stack, bridge, connect } = await setup();
    const dialogs: Dialog[] = [];
    let destroyed = false;
    await connect((srf) =>
      srf.invite(async (req, res) => {
        const dlg = await srf.createUAS(req, res, {
          localSdp:
            'v=0\r\no=app 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n',
        });
        dlg.on('destroy', () => {
          destroyed = true;
        });
        dialogs.push(dlg);
      }),
    );
    const far = stack.inject(inviteFromFarEnd());
    expect(far.responses[0]!.status).toBe(100);
    await waitFor(() => far.responses.length === 2, 'the 200');
    const ok = far.responses[1]!;
    expect(ok.status).toBe(200);
    expect(ok.getHeader('contact')).toBe('<sip:192.0.2.1:5060>');
    expect(ok.getHeader('content-type')).toBe('application/sdp');
    expect(ok.body.toString()).toContain('m=audio 30000');
    const toTag = ok.toTag!;
    stack.inject(inDialogFromFarEnd('ACK', far.request, toTag, 1));
    await waitFor(() => dialogs.length === 1, 'dialog');
    expect(bridge.dialogs.size).toBe(1);
    const bye = stack.inject(inDialogFromFarEnd('BYE', far.request, toTag, 2));
    await waitFor(() => bye.responses.length === 1 && destroyed, 'BYE answered and dialog destroyed');
    expect(bye.responses[0]!.status).toBe(200);
    expect(bridge.dialogs.size).toBe(0);
  });

  it('answers 200 to an incoming CANCEL and 487 to the INVITE, and tells the app', async () => {
    const { stack, connect } = await setup();
    let canceled = false;
    await connect((srf) =>
      srf.invite((req, res) => {
        req.on('cancel', () => {
          canceled = true;
        });
        res.send(180);
      }),
    );
    const far = stack.inject(inviteFromFarEnd({ branch: 'z9hG4bKtobecanceled' }));
    await waitFor(() => far.responses.length === 2, 'the 180');
    const cancel = stack.inject(
      [
        'CANCEL sip:service@127.0.0.1:5060 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKtobecanceled',
        `From: ${far.request.getHeader('from')}`,
        `To: ${far.request.getHeader('to')}`,
        `Call-ID: ${far.request.callId}`,
        'CSeq: 1 CANCEL',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    expect(cancel.responses.map((r) => r.status)).toEqual([200]);
    expect(far.responses.map((r) => r.status)).toEqual([100, 180, 487]);
    expect(far.responses[2]!.toTag).toBe(far.responses[1]!.toTag);
    await waitFor(() => canceled, 'the cancel event in the app');
  });

  it('answers 481 to an in-dialog request for an unknown dialog', async () => {
    const { stack } = await setup();
    const invite = stack.inject(inviteFromFarEnd()).request;
    const bye = stack.inject(inDialogFromFarEnd('BYE', invite, 'nosuchtag', 2));
    expect(bye.responses.map((r) => r.status)).toEqual([481]);
  });

  it('answers an app that disconnects before answering with 503', async () => {
    const { stack, connect } = await setup();
    let gotIt = false;
    const srf = await connect((s) =>
      s.invite(() => {
        gotIt = true;
      }),
    );
    const far = stack.inject(inviteFromFarEnd());
    await waitFor(() => gotIt, 'the INVITE at the app');
    srf.disconnect();
    await waitFor(() => far.responses.some((r) => r.status === 503), 'the 503');
  });

  it('ends the calls of an app that disconnects: BYE to the peer, dialog forgotten', async () => {
    const { stack, bridge, connect } = await setup();
    let created = false;
    const srf = await connect((s) =>
      s.invite(async (req, res) => {
        await s.createUAS(req, res, { localSdp: 'v=0\r\n' });
        created = true;
      }),
    );
    const far = stack.inject(inviteFromFarEnd());
    await waitFor(() => created, 'the call');
    stack.inject(
      inDialogFromFarEnd('ACK', far.request, far.responses.find((r) => r.status === 200)!.toTag!, 1),
    );
    srf.disconnect();
    await waitFor(() => stack.sent.some((s) => s.request.method === 'BYE'), 'the BYE');
    const bye = stack.sent.find((s) => s.request.method === 'BYE')!.request;
    expect(bye.callId).toBe(far.request.callId);
    expect(bridge.dialogs.size).toBe(0);
  });

  it('ACKs the 2xx of an app that left before ACKing it, then ends the call with BYE (RFC 3261 §13.2.2.4, §15)', async () => {
    const { stack, bridge, connect } = await setup();
    const srf = await connect();
    srf.createUAC('sip:bob@127.0.0.1:5070', { localSdp: 'v=0\r\n' }).catch(() => {});
    await waitFor(() => stack.sent.length === 1, 'the INVITE');
    const invite = stack.sent[0]!.request;
    // the app goes in the same tick as the 2xx arrives: it never reads it, so never ACKs it
    stack.sent[0]!.respond(farResponse(invite, 200, 'OK', ['Contact: <sip:bob@127.0.0.1:5070>']));
    srf.disconnect();
    await waitFor(() => stack.sent.some((s) => s.request.method === 'BYE'), 'the BYE');
    expect(stack.acks.map((a) => a.getHeader('cseq'))).toEqual([`${invite.cseq.seq} ACK`]);
    const bye = stack.sent.find((s) => s.request.method === 'BYE')!.request;
    expect(bye.cseq.seq).toBe(invite.cseq.seq + 1);
    expect(bridge.dialogs.size).toBe(0);
  });

  it('cancels the pending outgoing INVITE of an app that disconnects', async () => {
    const { stack, connect } = await setup();
    const srf = await connect();
    srf.createUAC('sip:bob@127.0.0.1:5070', { localSdp: 'v=0\r\n' }).catch(() => {});
    await waitFor(() => stack.sent.length === 1, 'the INVITE');
    stack.sent[0]!.respond(farResponse(stack.sent[0]!.request, 180, 'Ringing'));
    await new Promise((r) => setTimeout(r, 50));
    srf.disconnect();
    await waitFor(() => stack.sent[0]!.cancels.length === 1, 'the CANCEL');
    expect(stack.sent[0]!.cancels[0]!.getHeader('reason')).toContain('503');
  });

  it('ends a dialog whose 2xx is never ACKed: BYE to the far end, unsolicited BYE to the app', async () => {
    const { stack, bridge, connect } = await setup();
    let destroyed = false;
    let created = false;
    await connect((srf) =>
      srf.invite(async (req, res) => {
        const dlg = await srf.createUAS(req, res, { localSdp: 'v=0\r\n' });
        created = true;
        dlg.on('destroy', () => {
          destroyed = true;
        });
      }),
    );
    const far = stack.inject(inviteFromFarEnd());
    await waitFor(() => far.responses.some((r) => r.status === 200), 'the 200');
    await waitFor(() => created, 'the dialog in the app');
    stack.expireAck(far);
    await waitFor(() => stack.sent.some((s) => s.request.method === 'BYE'), 'the BYE');
    await waitFor(() => destroyed, 'the app to learn of the BYE');
    expect(bridge.dialogs.size).toBe(0);
  });
});

describe('requests from apps to the network', () => {
  it('srf.request: completes the request and passes the response back', async () => {
    const { stack, connect } = await setup();
    const srf = await connect();
    const status = new Promise<number>((resolve, reject) => {
      sendRequest(
        srf,
        'sip:bob@127.0.0.1:5070',
        {
          method: 'MESSAGE',
          headers: { 'Content-Type': 'text/plain', 'X-Custom': '1' },
          body: 'hello from srf',
        },
        (err, req) => {
          if (err || !req) return reject(err);
          req.on('response', (res?: SrfResponse) => resolve(res?.status as number));
        },
      );
    });
    await waitFor(() => stack.sent.length === 1, 'the MESSAGE');
    const sent = stack.sent[0]!.request;
    expect(sent.method).toBe('MESSAGE');
    expect(sent.fromTag).toBeTruthy();
    expect(sent.callId).toBeTruthy();
    expect(sent.cseq.method).toBe('MESSAGE');
    expect(sent.getHeader('max-forwards')).toBe('70');
    expect(sent.getHeader('x-custom')).toBe('1');
    expect(sent.body.toString()).toBe('hello from srf');
    stack.sent[0]!.respond(farResponse(sent, 202, 'Accepted'));
    expect(await status).toBe(202);
  });

  it('createUAC: INVITE with Contact, early and final responses, ACK built from the dialog, BYE from the app', async () => {
    const { stack, bridge, connect } = await setup();
    const srf = await connect();
    const provisional: number[] = [];
    const uac = srf.createUAC(
      'sip:bob@127.0.0.1:5070',
      { localSdp: 'v=0\r\no=app 1 1 IN IP4 192.0.2.1\r\n' },
      {
        cbProvisional: (res: SrfResponse) => provisional.push(res.status as number),
      },
    );
    await waitFor(() => stack.sent.length === 1, 'the INVITE');
    const invite = stack.sent[0]!.request;
    expect(invite.getHeader('contact')).toBe('<sip:192.0.2.1:5060>');
    expect(invite.getHeader('content-type')).toBe('application/sdp');
    stack.sent[0]!.respond(farResponse(invite, 180, 'Ringing', ['Contact: <sip:bob@127.0.0.1:5070>']));
    stack.sent[0]!.respond(
      farResponse(invite, 200, 'OK', [
        'Contact: <sip:bob@127.0.0.1:5071;transport=udp>',
        'Record-Route: <sip:proxy.example;lr>',
      ]),
    );
    const dialog = await uac;
    expect(provisional).toEqual([180]);
    await waitFor(() => stack.acks.length === 1, 'the ACK');
    const ack = stack.acks[0]!;
    expect(ack.uri.toString()).toBe('sip:bob@127.0.0.1:5071;transport=udp');
    expect(ack.getHeader('route')).toBe('<sip:proxy.example;lr>');
    expect(ack.getHeader('cseq')).toBe(`${invite.cseq.seq} ACK`);
    expect(ack.toTag).toBe('far-tag');
    expect(bridge.dialogs.size).toBe(1);
    const ended = dialog.destroy();
    await waitFor(() => stack.sent.length === 2, 'the BYE');
    const bye = stack.sent[1]!.request;
    expect(bye.method).toBe('BYE');
    expect(bye.cseq.seq).toBe(invite.cseq.seq + 1);
    expect(bye.getHeader('route')).toBe('<sip:proxy.example;lr>');
    stack.sent[1]!.respond(farResponse(bye, 200, 'OK'));
    await ended;
    expect(bridge.dialogs.size).toBe(0);
  });

  it('keeps 100 Trying from the app: createUAC hears the 180 and the 200, srf.request only the final answer', async () => {
    const { stack, connect } = await setup();
    const srf = await connect();
    const provisional: number[] = [];
    const uac = srf.createUAC(
      'sip:bob@127.0.0.1:5070',
      { localSdp: 'v=0\r\n' },
      {
        cbProvisional: (res: SrfResponse) => provisional.push(res.status as number),
      },
    );
    await waitFor(() => stack.sent.length === 1, 'the INVITE');
    const invite = stack.sent[0]!.request;
    stack.sent[0]!.respond(farResponse(invite, 100, 'Trying'));
    stack.sent[0]!.respond(farResponse(invite, 180, 'Ringing', ['Contact: <sip:bob@127.0.0.1:5070>']));
    stack.sent[0]!.respond(farResponse(invite, 200, 'OK', ['Contact: <sip:bob@127.0.0.1:5070>']));
    const dialog = await uac;
    expect(provisional).toEqual([180]);

    const heard: number[] = [];
    const answered = new Promise<void>((resolve, reject) => {
      sendRequest(srf, 'sip:bob@127.0.0.1:5070', { method: 'OPTIONS' }, (err, req) => {
        if (err || !req) return reject(err);
        req.on('response', (res?: SrfResponse) => {
          heard.push(res?.status as number);
          if ((res?.status as number) >= 200) resolve();
        });
      });
    });
    await waitFor(() => stack.sent.length === 2, 'the OPTIONS');
    const options = stack.sent[1]!.request;
    stack.sent[1]!.respond(farResponse(options, 100, 'Trying'));
    stack.sent[1]!.respond(farResponse(options, 200, 'OK'));
    await answered;
    expect(heard).toEqual([200]);
    dialog.destroy();
  });

  it('createUAC: answers a digest challenge with the credentials given', async () => {
    const { stack, connect } = await setup();
    const srf = await connect();
    const uac = srf.createUAC('sip:bob@127.0.0.1:5070', {
      localSdp: 'v=0\r\n',
      auth: { username: 'alice', password: 'secret' },
    });
    await waitFor(() => stack.sent.length === 1, 'the INVITE');
    const first = stack.sent[0]!.request;
    stack.sent[0]!.respond(
      farResponse(first, 407, 'Proxy Authentication Required', [
        'Proxy-Authenticate: Digest realm="test", nonce="abc123", qop="auth", algorithm=MD5',
      ]),
    );
    await waitFor(() => stack.sent.length === 2, 'the retried INVITE');
    const second = stack.sent[1]!.request;
    expect(second.getHeader('proxy-authorization')).toMatch(/^Digest .*username="alice"/);
    expect(second.callId).toBe(first.callId);
    expect(second.cseq.seq).toBeGreaterThan(first.cseq.seq);
    stack.sent[1]!.respond(farResponse(second, 200, 'OK', ['Contact: <sip:bob@127.0.0.1:5070>']));
    const dialog = await uac;
    expect(dialog).toBeTruthy();
  });

  it('keeps the dialog when its BYE is challenged: the BYE goes again with credentials (RFC 3261 §22.2)', async () => {
    const { stack, bridge, connect } = await setup();
    const srf = await connect();
    const uac = srf.createUAC('sip:bob@127.0.0.1:5070', {
      localSdp: 'v=0\r\n',
      auth: { username: 'alice', password: 'secret' },
    });
    await waitFor(() => stack.sent.length === 1, 'the INVITE');
    stack.sent[0]!.respond(
      farResponse(stack.sent[0]!.request, 200, 'OK', ['Contact: <sip:bob@127.0.0.1:5070>']),
    );
    const dialog = await uac;
    const ended = dialog.destroy();
    await waitFor(() => stack.sent.length === 2, 'the BYE');
    const bye = stack.sent[1]!.request;
    stack.sent[1]!.respond(
      farResponse(bye, 407, 'Proxy Authentication Required', [
        'Proxy-Authenticate: Digest realm="test", nonce="abc123", qop="auth", algorithm=MD5',
      ]),
    );
    await waitFor(() => stack.sent.length === 3, 'the BYE with credentials');
    const again = stack.sent[2]!.request;
    expect(again.method).toBe('BYE');
    expect(again.getHeader('proxy-authorization')).toMatch(/^Digest .*username="alice"/);
    expect(again.cseq.seq).toBe(bye.cseq.seq + 1);
    expect(again.toTag).toBe(bye.toTag);
    stack.sent[2]!.respond(farResponse(again, 200, 'OK'));
    await ended;
    await waitFor(() => bridge.dialogs.size === 0, 'the dialog to end with the 200');
  });

  it('createUAC: a failure response rejects with its status', async () => {
    const { stack, bridge, connect } = await setup();
    const srf = await connect();
    const uac = srf.createUAC('sip:bob@127.0.0.1:5070', { localSdp: 'v=0\r\n' });
    await waitFor(() => stack.sent.length === 1, 'the INVITE');
    stack.sent[0]!.respond(farResponse(stack.sent[0]!.request, 486, 'Busy Here'));
    await expect(uac).rejects.toMatchObject({ status: 486 });
    expect(bridge.dialogs.size).toBe(0);
  });

  it('CANCEL from the app goes out with the INVITE branch', async () => {
    const { stack, connect } = await setup();
    const srf = await connect();
    let request: SrfRequest | undefined;
    const uac = srf.createUAC(
      'sip:bob@127.0.0.1:5070',
      { localSdp: 'v=0\r\n' },
      {
        cbRequest: ((_err: unknown, req: SrfRequest) => {
          request = req;
        }) as unknown as (req: SrfRequest) => void,
      },
    );
    uac.catch(() => {});
    await waitFor(() => stack.sent.length === 1 && request !== undefined, 'the INVITE');
    const invite = stack.sent[0]!.request;
    stack.sent[0]!.respond(farResponse(invite, 180, 'Ringing'));
    await new Promise((r) => setTimeout(r, 50));
    (request as unknown as { cancel(): void }).cancel();
    await waitFor(() => stack.sent[0]!.cancels.length === 1, 'the CANCEL');
    const cancel = stack.sent[0]!.cancels[0]!;
    expect(cancel.getHeader('via')).toBe(invite.getHeaders('via')[0]);
    expect(cancel.getHeader('cseq')).toBe(`${invite.cseq.seq} CANCEL`);
    stack.sent[0]!.respond(farResponse(invite, 487, 'Request Terminated'));
    await expect(uac).rejects.toMatchObject({ status: 487 });
  });

  it('in-dialog INFO both ways', async () => {
    const { stack, connect } = await setup();
    const infos: string[] = [];
    let uas: Dialog | undefined;
    await connect((srf) =>
      srf.invite(async (req, res) => {
        uas = await srf.createUAS(req, res, { localSdp: 'v=0\r\n' });
        uas.on('info', (info: SrfRequest, infoRes: SrfResponse) => {
          infos.push(info.get('content-type'));
          infoRes.send(200);
        });
      }),
    );
    const far = stack.inject(inviteFromFarEnd());
    await waitFor(() => far.responses.length === 2, 'the 200');
    const toTag = far.responses[1]!.toTag!;
    stack.inject(inDialogFromFarEnd('ACK', far.request, toTag, 1));
    await waitFor(() => uas !== undefined, 'the dialog');
    const info = stack.inject(
      inDialogFromFarEnd('INFO', far.request, toTag, 2, ['Content-Type: application/dtmf-relay']),
    );
    await waitFor(() => info.responses.length === 1, 'the INFO answer');
    expect(info.responses[0]!.status).toBe(200);
    expect(infos).toEqual(['application/dtmf-relay']);
    const answered = (uas as unknown as { request(o: object): Promise<SrfResponse> }).request({
      method: 'INFO',
      headers: { 'Content-Type': 'text/plain' },
      body: 'x',
    });
    await waitFor(() => stack.sent.length === 1, 'the app INFO');
    const sentInfo = stack.sent[0]!.request;
    expect(sentInfo.uri.toString()).toBe('sip:caller@127.0.0.1:5070');
    expect(sentInfo.fromTag).toBe(toTag);
    expect(sentInfo.toTag).toBe(far.request.fromTag);
    stack.sent[0]!.respond(farResponse(sentInfo, 200, 'OK'));
    expect((await answered).status).toBe(200);
    expect(PEER.remotePort).toBe(5070);
  });

  it('createB2BUA: early media relayed, 200 to the caller, BYE from the callee ends both legs', async () => {
    const { stack, bridge, connect } = await setup();
    let ended = false;
    await connect((srf) =>
      srf.invite(async (req, res) => {
        const { uas, uac } = await srf.createB2BUA(req, res, 'sip:bob@127.0.0.1:5070', {
          passFailure: true,
        } as never);
        uac.on('destroy', () => {
          uas.destroy();
          ended = true;
        });
      }),
    );
    const far = stack.inject(inviteFromFarEnd());
    await waitFor(() => stack.sent.length === 1, 'the B leg INVITE');
    const bInvite = stack.sent[0]!.request;
    expect(bInvite.callId).not.toBe(far.request.callId);
    expect(bInvite.body.toString()).toContain('m=audio 40000');
    const sdpB =
      'v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 42000 RTP/AVP 0\r\n';
    const withSdp = (raw: string) =>
      raw.replace(
        'Content-Length: 0\r\n\r\n',
        `Content-Type: application/sdp\r\nContent-Length: ${sdpB.length}\r\n\r\n${sdpB}`,
      );
    stack.sent[0]!.respond(
      withSdp(farResponse(bInvite, 183, 'Session Progress', ['Contact: <sip:bob@127.0.0.1:5070>'])),
    );
    await waitFor(() => far.responses.some((r) => r.status === 183), 'early media to the caller');
    expect(far.responses.find((r) => r.status === 183)!.body.toString()).toContain('m=audio 42000');
    stack.sent[0]!.respond(withSdp(farResponse(bInvite, 200, 'OK', ['Contact: <sip:bob@127.0.0.1:5070>'])));
    await waitFor(() => far.responses.some((r) => r.status === 200), 'the 200 to the caller');
    await waitFor(() => stack.acks.length === 1, 'the ACK on the B leg');
    stack.inject(
      inDialogFromFarEnd('ACK', far.request, far.responses.find((r) => r.status === 200)!.toTag!, 1),
    );
    expect(bridge.dialogs.size).toBe(2);
    const byeFromB = [
      'BYE sip:192.0.2.1:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKbyeb',
      `From: ${bInvite.getHeader('to')};tag=far-tag`,
      `To: ${bInvite.getHeader('from')}`,
      `Call-ID: ${bInvite.callId}`,
      `CSeq: 10 BYE`,
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const bye = stack.inject(byeFromB);
    await waitFor(() => bye.responses.length === 1 && ended, 'the B leg BYE answered');
    expect(bye.responses[0]!.status).toBe(200);
    await waitFor(() => stack.sent.some((s) => s.request.method === 'BYE'), 'the BYE to the caller');
    const byeA = stack.sent.find((s) => s.request.method === 'BYE')!.request;
    expect(byeA.callId).toBe(far.request.callId);
    expect(byeA.uri.toString()).toBe('sip:caller@127.0.0.1:5070');
    byeA && stack.sent.find((s) => s.request.method === 'BYE')!.respond(farResponse(byeA, 200, 'OK'));
    await waitFor(() => bridge.dialogs.size === 0, 'both dialogs gone');
  });

  it('createB2BUA: the failure of the callee goes back to the caller', async () => {
    const { stack, bridge, connect } = await setup();
    await connect((srf) =>
      srf.invite(async (req, res) => {
        try {
          await srf.createB2BUA(req, res, 'sip:bob@127.0.0.1:5070', {} as never);
        } catch {
          // the failure has been passed to the caller
        }
      }),
    );
    const far = stack.inject(inviteFromFarEnd());
    await waitFor(() => stack.sent.length === 1, 'the B leg INVITE');
    stack.sent[0]!.respond(farResponse(stack.sent[0]!.request, 486, 'Busy Here'));
    await waitFor(() => far.responses.some((r) => r.status >= 400), 'the failure to the caller');
    expect(far.responses.at(-1)!.status).toBe(486);
    expect(bridge.dialogs.size).toBe(0);
  });
});

describe('in-dialog routing', () => {
  it('sends in-dialog requests to the app that owns the dialog, not round-robin', async () => {
    const { stack, connect } = await setup();
    const log: string[] = [];
    for (const name of ['one', 'two']) {
      await connect((srf) =>
        srf.invite(async (req, res) => {
          log.push(`invite ${name} ${req.get('Call-ID')}`);
          const dlg = await srf.createUAS(req, res, { localSdp: 'v=0\r\n' });
          dlg.on('info', (info: SrfRequest, infoRes: SrfResponse) => {
            log.push(`info ${name} ${info.get('Call-ID')}`);
            infoRes.send(200);
          });
        }),
      );
    }
    const calls = [stack.inject(inviteFromFarEnd()), stack.inject(inviteFromFarEnd())];
    await waitFor(() => calls.every((c) => c.responses.some((r) => r.status === 200)), 'both calls answered');
    for (const call of calls) {
      const tag = call.responses.find((r) => r.status === 200)!.toTag!;
      stack.inject(inDialogFromFarEnd('ACK', call.request, tag, 1));
    }
    await new Promise((r) => setTimeout(r, 50));
    // the INFO for each call, sent in reverse order
    for (const call of [...calls].reverse()) {
      const tag = call.responses.find((r) => r.status === 200)!.toTag!;
      const info = stack.inject(inDialogFromFarEnd('INFO', call.request, tag, 2));
      await waitFor(() => info.responses.length === 1, 'INFO answered');
    }
    const owner = (kind: string, callId: string) =>
      log.find((l) => l.startsWith(kind) && l.endsWith(callId))?.split(' ')[1];
    const callIds = calls.map((c) => c.request.callId);
    // round-robin gave one call to each app, and each INFO went to the app that owns its dialog
    expect(new Set(callIds.map((id) => owner('invite', id))).size).toBe(2);
    for (const id of callIds) expect(owner('info', id)).toBe(owner('invite', id));
  });

  it('REFER and NOTIFY inside a dialog, both ways', async () => {
    const { stack, connect } = await setup();
    let dialog: Dialog | undefined;
    const events: string[] = [];
    await connect((srf) =>
      srf.invite(async (req, res) => {
        dialog = await srf.createUAS(req, res, { localSdp: 'v=0\r\n' });
        dialog.on('refer', (refer: SrfRequest, referRes: SrfResponse) => {
          events.push(`refer ${refer.get('Refer-To')}`);
          referRes.send(202);
        });
        dialog.on('notify', (notify: SrfRequest, notifyRes: SrfResponse) => {
          events.push(`notify ${notify.get('Event')}`);
          notifyRes.send(200);
        });
      }),
    );
    const far = stack.inject(inviteFromFarEnd());
    await waitFor(() => far.responses.some((r) => r.status === 200), 'the 200');
    const tag = far.responses.find((r) => r.status === 200)!.toTag!;
    stack.inject(inDialogFromFarEnd('ACK', far.request, tag, 1));
    await waitFor(() => dialog !== undefined, 'the dialog');
    const refer = stack.inject(
      inDialogFromFarEnd('REFER', far.request, tag, 2, [
        'Refer-To: <sip:carol@127.0.0.1>',
        'Contact: <sip:caller@127.0.0.1:5070>',
      ]),
    );
    await waitFor(() => refer.responses.length === 1, 'the 202');
    expect(refer.responses[0]!.status).toBe(202);
    const notify = stack.inject(
      inDialogFromFarEnd('NOTIFY', far.request, tag, 3, [
        'Event: refer',
        'Subscription-State: terminated;reason=noresource',
      ]),
    );
    await waitFor(() => notify.responses.length === 1, 'the NOTIFY answer');
    expect(events).toEqual(['refer <sip:carol@127.0.0.1>', 'notify refer']);
    const sentNotify = (dialog as unknown as { request(o: object): Promise<SrfResponse> }).request({
      method: 'NOTIFY',
      headers: {
        Event: 'refer',
        'Subscription-State': 'terminated;reason=noresource',
        'Content-Type': 'message/sipfrag',
      },
      body: 'SIP/2.0 200 OK',
    });
    await waitFor(() => stack.sent.length === 1, 'the app NOTIFY');
    const out = stack.sent[0]!.request;
    expect(out.method).toBe('NOTIFY');
    expect(out.getHeader('event')).toBe('refer');
    expect(out.getHeader('contact')).toBeTruthy();
    expect(out.body.toString()).toBe('SIP/2.0 200 OK');
    expect(out.toTag).toBe(far.request.fromTag);
    stack.sent[0]!.respond(farResponse(out, 200, 'OK'));
    expect((await sentNotify).status).toBe(200);
  });
});

describe('engine-side behaviour apps rely on', () => {
  for (const [title, after] of [
    ['sends a provisional with Require: 100rel reliably and hands the PRACK to the app', ''],
    // sofia-sip reads the numbers and the method and ignores the rest; field UAs rely on it.
    [
      'a PRACK whose RAck has text after the method also reaches the app and stops the retransmissions',
      ' INVITE',
    ],
  ]) {
    it(title!, async () => {
      const { stack, connect } = await setup({ t1Ms: 20 });
      let pracked = false;
      await connect((srf) =>
        srf.invite((_req, res) => {
          (res.send as unknown as (s: number, o: object, cb: () => void, fnPrack: () => void) => void)(
            183,
            { headers: { Require: '100rel' }, body: 'v=0\r\n' },
            () => {},
            () => {
              pracked = true;
              res.send(200, { body: 'v=0\r\n' });
            },
          );
        }),
      );
      const far = stack.inject(inviteFromFarEnd({ extra: ['Supported: 100rel'] }));
      await waitFor(() => far.responses.filter((r) => r.status === 183).length >= 2, 'the 183 retransmitted');
      const rel = far.responses.find((r) => r.status === 183)!;
      const rseq = Number(rel.getHeader('rseq'));
      expect(rseq).toBeGreaterThan(0);
      const prack = stack.inject(
        inDialogFromFarEnd('PRACK', far.request, rel.toTag!, 2, [`RAck: ${rseq} 1 INVITE${after}`]),
      );
      await waitFor(() => pracked, 'the PRACK at the app');
      await waitFor(() => far.responses.some((r) => r.status === 200), 'the 200');
      const count = far.responses.filter((r) => r.status === 183).length;
      await new Promise((r) => setTimeout(r, 200));
      expect(far.responses.filter((r) => r.status === 183).length).toBe(count);
      expect(prack.request.method).toBe('PRACK');
    });
  }

  it('accepts a session timer on the 2xx with the UAC as refresher (RFC 4028)', async () => {
    const { stack, connect } = await setup();
    await connect((srf) => srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: 'v=0\r\n' })));
    const far = stack.inject(inviteFromFarEnd({ extra: ['Supported: timer', 'Session-Expires: 1800'] }));
    await waitFor(() => far.responses.some((r) => r.status === 200), 'the 200');
    const ok = far.responses.find((r) => r.status === 200)!;
    expect(ok.getHeader('session-expires')).toBe('1800;refresher=uac');
    expect(ok.require).toContain('timer');
  });

  it('refuses an initial INVITE asking for less than its Min-SE with 422, when the UAC supports timers (RFC 4028 §8.1, §9)', async () => {
    const { stack, connect } = await setup();
    await connect((srf) => srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: 'v=0\r\n' })));
    const short = stack.inject(inviteFromFarEnd({ extra: ['Supported: timer', 'Session-Expires: 30'] }));
    expect(short.responses.map((r) => r.status)).toEqual([100, 422]);
    expect(short.responses[1]!.getHeader('min-se')).toBe('90');
    // A UAC without timer support could not retry: it gets the longer interval in the 2xx instead.
    const old = stack.inject(inviteFromFarEnd({ extra: ['Session-Expires: 30'] }));
    await waitFor(() => old.responses.some((r) => r.status === 200), 'the 200');
    expect(old.responses.some((r) => r.status === 422)).toBe(false);
  });

  it('refuses a refresh shorter than its Min-SE with 422 (RFC 4028 §8.1)', async () => {
    const { stack, connect } = await setup();
    await connect((srf) => srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: 'v=0\r\n' })));
    const far = stack.inject(inviteFromFarEnd({ extra: ['Supported: timer', 'Session-Expires: 1800'] }));
    await waitFor(() => far.responses.some((r) => r.status === 200), 'the 200');
    const toTag = far.responses.find((r) => r.status === 200)!.toTag!;
    stack.inject(inDialogFromFarEnd('ACK', far.request, toTag, 1));
    const refresh = stack.inject(
      inDialogFromFarEnd('UPDATE', far.request, toTag, 2, ['Supported: timer', 'Session-Expires: 30']),
    );
    await waitFor(() => refresh.responses.some((r) => r.status === 422), 'the 422');
    expect(refresh.responses.find((r) => r.status === 422)!.getHeader('min-se')).toBe('90');
  });

  it('refreshes with UPDATE when the dialog has no SDP, retries after 491, keeps the call after a 2xx', async () => {
    const { stack, connect } = await setup({ minSessionExpires: 1 });
    await connect((srf) => srf.invite((_req, res) => res.send(200)));
    const far = stack.inject(
      inviteFromFarEnd({ extra: ['Supported: timer', 'Session-Expires: 10;refresher=uas'] }),
    );
    await waitFor(() => far.responses.some((r) => r.status === 200), 'the 200');
    const ok = far.responses.find((r) => r.status === 200)!;
    expect(ok.getHeader('session-expires')).toBe('10;refresher=uas');
    stack.inject(inDialogFromFarEnd('ACK', far.request, ok.toTag!, 1));
    const answeredAt = Date.now();
    // refresher=uas: we refresh at half the interval; our 2xx carried no SDP, so with UPDATE
    await waitFor(
      () => stack.sent.some((s) => s.request.method === 'UPDATE'),
      'the refreshing UPDATE',
      8_000,
    );
    const first = stack.sent.find((s) => s.request.method === 'UPDATE')!;
    expect(first.request.getHeader('session-expires')).toBe('10;refresher=uac');
    expect(first.request.getHeader('min-se')).toBe('1');
    expect(first.request.toTag).toBe(far.request.fromTag);
    first.respond(farResponse(first.request, 491, 'Request Pending'));
    // RFC 3261 §14.1: try again 2.1-4 s later, still before the session expires at 10 s
    await waitFor(
      () => stack.sent.filter((s) => s.request.method === 'UPDATE').length === 2,
      'the retried UPDATE',
      8_000,
    );
    const second = stack.sent.filter((s) => s.request.method === 'UPDATE')[1]!;
    second.respond(farResponse(second.request, 200, 'OK', ['Session-Expires: 60;refresher=uac']));
    // past the first interval's end: the 2xx re-armed the timer for 60 s, so no BYE
    await new Promise((r) => setTimeout(r, Math.max(0, answeredAt + 10_500 - Date.now())));
    expect(stack.sent.some((s) => s.request.method === 'BYE')).toBe(false);
  }, 30_000);

  it('sends cdr events to apps that ask for them', async () => {
    const { stack, connect } = await setup();
    const events: string[] = [];
    await connect((srf) => {
      srf.on('cdr:attempt', () => events.push('attempt'));
      srf.on('cdr:start', () => events.push('start'));
      srf.on('cdr:stop', () => events.push('stop'));
      srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: 'v=0\r\n' }));
    });
    const far = stack.inject(inviteFromFarEnd());
    await waitFor(() => far.responses.some((r) => r.status === 200), 'the 200');
    const toTag = far.responses.find((r) => r.status === 200)!.toTag!;
    stack.inject(inDialogFromFarEnd('ACK', far.request, toTag, 1));
    stack.inject(inDialogFromFarEnd('BYE', far.request, toTag, 2));
    await waitFor(() => events.length >= 3, 'three cdr events');
    expect(events).toEqual(['attempt', 'start', 'stop']);
  });

  it('answers 408 itself when the app does not answer in time', async () => {
    const { stack, connect } = await setup({ appResponseTimeoutMs: 200 });
    await connect((srf) => srf.invite(() => {}));
    const far = stack.inject(inviteFromFarEnd());
    await waitFor(() => far.responses.some((r) => r.status === 408), 'the 408');
  });

  it('as UAC, a reliable provisional is PRACKed inside the early dialog', async () => {
    const { stack, connect } = await setup();
    const srf = await connect();
    const uac = srf.createUAC('sip:bob@127.0.0.1:5070', {
      localSdp: 'v=0\r\n',
      headers: { Supported: '100rel' },
    } as never);
    await waitFor(() => stack.sent.length === 1, 'the INVITE');
    const invite = stack.sent[0]!.request;
    stack.sent[0]!.respond(
      farResponse(invite, 183, 'Session Progress', [
        'Contact: <sip:bob@127.0.0.1:5070>',
        'Require: 100rel',
        'RSeq: 7',
      ]),
    );
    await waitFor(() => stack.sent.length === 2, 'the PRACK');
    const prack = stack.sent[1]!.request;
    expect(prack.method).toBe('PRACK');
    expect(prack.getHeader('rack')).toBe(`7 ${invite.cseq.seq} INVITE`);
    expect(prack.uri.toString()).toBe('sip:bob@127.0.0.1:5070');
    expect(prack.toTag).toBe('far-tag');
    stack.sent[1]!.respond(farResponse(prack, 200, 'OK'));
    stack.sent[0]!.respond(farResponse(invite, 200, 'OK', ['Contact: <sip:bob@127.0.0.1:5070>']));
    expect(await uac).toBeTruthy();
  });
});
