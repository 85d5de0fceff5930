import { describe, expect, it } from 'vitest';
import { copyRecordRoute, Dialog, DialogTable } from '../src/dialogs/index.ts';
import { createResponse, parseMessage, type SipRequest, type SipResponse } from '../src/messages/index.ts';

function inviteWith(recordRoute: string[] = [], extra = ''): SipRequest {
  return parseMessage(
    'INVITE sip:bob@biloxi.example.com SIP/2.0\r\n' +
      'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKdlg1\r\n' +
      'Max-Forwards: 70\r\n' +
      'From: Alice <sip:alice@atlanta.example.com>;tag=alicetag\r\n' +
      'To: Bob <sip:bob@biloxi.example.com>\r\n' +
      'Call-ID: dialog-call-1\r\n' +
      'CSeq: 314 INVITE\r\n' +
      'Contact: <sip:alice@192.0.2.1:5060>\r\n' +
      recordRoute.map((r) => `Record-Route: ${r}\r\n`).join('') +
      extra +
      'Content-Length: 0\r\n\r\n',
  ) as SipRequest;
}

function answer(invite: SipRequest, status: number, contact = '<sip:bob@192.0.2.4:5070>'): SipResponse {
  return copyRecordRoute(
    invite,
    createResponse(invite, status, { toTag: 'bobtag', headers: [['Contact', contact]] }),
  );
}

describe('UAC dialogs (RFC 3261 §12.1.2, §12.2.1.1)', () => {
  const rr = ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>'];

  it('builds in-dialog requests with reversed Record-Route, remote target and next CSeq', () => {
    const invite = inviteWith(rr);
    const dialog = Dialog.fromUac(invite, answer(invite, 200));
    expect(dialog.state).toBe('confirmed');
    expect(dialog.id).toEqual({ callId: 'dialog-call-1', localTag: 'alicetag', remoteTag: 'bobtag' });
    const bye = dialog.createRequest('BYE');
    expect(bye.uri.toString()).toBe('sip:bob@192.0.2.4:5070');
    expect(bye.getHeaders('Route')).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(bye.cseq).toEqual({ seq: 315, method: 'BYE' });
    expect(bye.fromTag).toBe('alicetag');
    expect(bye.toTag).toBe('bobtag');
    expect(bye.callId).toBe('dialog-call-1');
    expect(dialog.nextHop().toString()).toBe('sip:p2.example.com;lr');
  });

  it('the ACK for a 2xx reuses the INVITE CSeq number and does not advance the local CSeq', () => {
    const invite = inviteWith();
    const dialog = Dialog.fromUac(invite, answer(invite, 200));
    const ack = dialog.createAck(314);
    expect(ack.method).toBe('ACK');
    expect(ack.cseq).toEqual({ seq: 314, method: 'ACK' });
    expect(dialog.createRequest('INFO').cseq.seq).toBe(315);
  });

  it('strict router first in the route set: it becomes the Request-URI, remote target goes last (§12.2.1.1)', () => {
    const invite = inviteWith(['<sip:loose.example.com;lr>', '<sip:strict.example.com;method=INVITE>']);
    const dialog = Dialog.fromUac(invite, answer(invite, 200));
    const req = dialog.createRequest('BYE');
    expect(req.uri.toString()).toBe('sip:strict.example.com');
    expect(req.getHeaders('Route')).toEqual(['<sip:loose.example.com;lr>', '<sip:bob@192.0.2.4:5070>']);
  });

  it('an early dialog is confirmed by the 2xx, which also recomputes the route set (§13.2.2.4)', () => {
    const invite = inviteWith();
    const early = createResponse(invite, 180, {
      toTag: 'bobtag',
      headers: [
        ['Contact', '<sip:bob@192.0.2.4:5070>'],
        ['Record-Route', '<sip:early.example.com;lr>'],
      ],
    });
    const dialog = Dialog.fromUac(invite, early);
    expect(dialog.state).toBe('early');
    const ok = createResponse(invite, 200, {
      toTag: 'bobtag',
      headers: [
        ['Contact', '<sip:bob@192.0.2.5>'],
        ['Record-Route', '<sip:final.example.com;lr>'],
      ],
    });
    dialog.receiveResponse(ok);
    expect(dialog.state).toBe('confirmed');
    expect(dialog.routeSet.map((r) => r.toString())).toEqual(['<sip:final.example.com;lr>']);
    expect(dialog.remoteTarget.toString()).toBe('sip:bob@192.0.2.5');
  });

  it('refuses responses that cannot create a dialog', () => {
    const invite = inviteWith();
    expect(() => Dialog.fromUac(invite, createResponse(invite, 100))).toThrow();
    expect(() => Dialog.fromUac(invite, answer(invite, 486))).toThrow();
  });
});

describe('UAS dialogs (RFC 3261 §12.1.1, §12.2.2)', () => {
  it('keeps the Record-Route order and targets the caller Contact', () => {
    const invite = inviteWith(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    const dialog = Dialog.fromUas(invite, answer(invite, 200));
    expect(dialog.id).toEqual({ callId: 'dialog-call-1', localTag: 'bobtag', remoteTag: 'alicetag' });
    const bye = dialog.createRequest('BYE');
    expect(bye.uri.toString()).toBe('sip:alice@192.0.2.1:5060');
    expect(bye.getHeaders('Route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(bye.fromTag).toBe('bobtag');
    expect(bye.toTag).toBe('alicetag');
    expect(bye.from.uri.toString()).toBe('sip:bob@biloxi.example.com');
  });

  it('rejects a lower CSeq with 500 and applies target refreshes', () => {
    const invite = inviteWith();
    const dialog = Dialog.fromUas(invite, answer(invite, 200));
    const reinvite = parseMessage(
      invite
        .toString()
        .replace('CSeq: 314 INVITE', 'CSeq: 315 INVITE')
        .replace('To: Bob <sip:bob@biloxi.example.com>', 'To: Bob <sip:bob@biloxi.example.com>;tag=bobtag')
        .replace('Contact: <sip:alice@192.0.2.1:5060>', 'Contact: <sip:alice@192.0.2.99:5060>'),
    ) as SipRequest;
    expect(dialog.receiveRequest(reinvite)).toEqual({ ok: true });
    expect(dialog.remoteTarget.toString()).toBe('sip:alice@192.0.2.99:5060');
    const old = parseMessage(
      reinvite.toString().replace('CSeq: 315 INVITE', 'CSeq: 300 INVITE'),
    ) as SipRequest;
    expect(dialog.receiveRequest(old)).toMatchObject({ ok: false, status: 500 });
  });
});

describe('DialogTable', () => {
  it('classifies requests: in-dialog, unknown dialog (481), out of dialog', () => {
    const table = new DialogTable();
    const invite = inviteWith();
    const dialog = table.add(Dialog.fromUas(invite, answer(invite, 200)));
    const bye = parseMessage(
      invite
        .toString()
        .replace(/^INVITE/, 'BYE')
        .replace('CSeq: 314 INVITE', 'CSeq: 315 BYE')
        .replace('To: Bob <sip:bob@biloxi.example.com>', 'To: Bob <sip:bob@biloxi.example.com>;tag=bobtag'),
    ) as SipRequest;
    expect(table.matchRequest(bye)).toEqual({ kind: 'in-dialog', dialog });
    const stranger = parseMessage(bye.toString().replace('tag=bobtag', 'tag=other')) as SipRequest;
    expect(table.matchRequest(stranger)).toEqual({ kind: 'unknown-dialog' });
    expect(table.matchRequest(invite)).toEqual({ kind: 'out-of-dialog' });
    table.remove(dialog);
    expect(table.matchRequest(bye)).toEqual({ kind: 'unknown-dialog' });
  });

  it('matches responses by From tag / To tag', () => {
    const table = new DialogTable();
    const invite = inviteWith();
    const res = answer(invite, 200);
    const dialog = table.add(Dialog.fromUac(invite, res));
    expect(table.matchResponse(res)).toBe(dialog);
  });

  it('files a dialog again when a 2xx from another fork retags it, and finds dialogs by Call-ID and tags', () => {
    const table = new DialogTable<{ owner: string }>();
    const invite = inviteWith();
    const early = createResponse(invite, 183, {
      toTag: 'fork1',
      headers: [['Contact', '<sip:b1@192.0.2.5>']],
    });
    const dialog = table.add(Dialog.fromUac(invite, early, { data: { owner: 'app-1' } }));
    expect(dialog.state).toBe('early');
    expect(dialog.data.owner).toBe('app-1');
    expect(table.withCallId('dialog-call-1')).toEqual([dialog]);
    // early → retagged to the answering fork → confirmed (§13.2.2.4)
    table.retag(dialog, 'bobtag');
    const ok = answer(invite, 200);
    dialog.receiveResponse(ok);
    expect(dialog.state).toBe('confirmed');
    expect(table.matchResponse(ok)).toBe(dialog);
    expect(table.matchIncoming('dialog-call-1', 'bobtag', 'alicetag')).toBe(dialog);
    expect(table.matchIncoming('dialog-call-1', 'fork1', 'alicetag')).toBeUndefined();
    expect(table.matchIncoming('dialog-call-1', undefined, 'alicetag')).toBeUndefined();
    table.clear();
    expect(dialog.state).toBe('terminated');
    expect(table.size).toBe(0);
    expect(table.withCallId('dialog-call-1')).toEqual([]);
  });
});

describe('dialog options and CSeq (§12.1, §12.2.1.1, §13.2.2.4)', () => {
  it('a UAS dialog counts from the local CSeq given, and the ACK reuses the last INVITE CSeq', () => {
    const invite = inviteWith();
    const dialog = Dialog.fromUas(invite, answer(invite, 200), { localSeq: 0, usage: 'invite' });
    expect(dialog.usage).toBe('invite');
    expect(dialog.nextSeq('INFO')).toBe(1);
    expect(dialog.nextSeq('INVITE')).toBe(2);
    expect(dialog.nextSeq('ACK')).toBe(2);
    expect(dialog.inviteSeq).toBe(2);
    expect(dialog.createRequest('BYE').cseq).toEqual({ seq: 3, method: 'BYE' });
  });

  it('a subscription dialog and a lenient fallback target when the peer sent no Contact', () => {
    const subscribe = parseMessage(
      inviteWith()
        .toString()
        .replace(/^INVITE/, 'SUBSCRIBE')
        .replace('CSeq: 314 INVITE', 'CSeq: 1 SUBSCRIBE')
        .replace('Contact: <sip:alice@192.0.2.1:5060>\r\n', ''),
    ) as SipRequest;
    const ok = createResponse(subscribe, 202, { toTag: 'n1' });
    expect(() => Dialog.fromUas(subscribe, ok)).toThrow();
    const dialog = Dialog.fromUas(subscribe, ok, {
      usage: 'subscription',
      fallbackTarget: subscribe.from.uri,
      localContact: '<sip:notifier@192.0.2.4>',
    });
    expect(dialog.usage).toBe('subscription');
    expect(dialog.inviteSeq).toBeUndefined();
    expect(dialog.remoteTarget.toString()).toBe('sip:alice@atlanta.example.com');
    expect(dialog.createRequest('NOTIFY').getHeader('Contact')).toBe('<sip:notifier@192.0.2.4>');
  });
});
