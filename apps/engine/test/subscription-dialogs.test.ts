import type { SipRequest } from '@switchboard/sip';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanups, setup } from './bridge-harness.ts';
import { waitFor } from './helpers.ts';
import { farResponse } from './loopback-stack.ts';
import type { Dialog, SrfRequest, SrfResponse } from './srf.ts';

/**
 * The part of drachtio-srf's Dialog these tests use. Its bundled types know neither `id`, nor SUBSCRIBE
 * dialogs, nor requests other than with an SrfRequest; the runtime API has them all.
 */
interface SubscriptionDialog {
  id: string;
  request(opts: { method: string; headers: Record<string, string> }): Promise<unknown>;
  getCountOfSubscriptions(): number;
  on(event: 'notify', listener: (req: SrfRequest, res: SrfResponse) => void): void;
}
const asSubscription = (dialog: Dialog) => dialog as unknown as SubscriptionDialog;
/** createUAS options for a SUBSCRIBE: no session description (the bundled types require one). */
const NO_SDP = { localSdp: '' };

/**
 * Subscription dialogs (RFC 6665) with the real drachtio-srf: the engine keeps a dialog for an accepted
 * SUBSCRIBE (and an out-of-dialog REFER) so that the app's NOTIFYs go inside it, and ends it as
 * drachtio-server does: on a NOTIFY with `Subscription-State: terminated` or on expiry, never on BYE.
 */

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

let seq = 0;
function subscribeFromFarEnd(method = 'SUBSCRIBE', expires = 900): string {
  seq++;
  return [
    `${method} sip:resource@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKsub${seq}`,
    // addr-spec forms, as sipp's scenarios write them
    `From: sip:watcher@127.0.0.1;tag=w${seq}`,
    'To: <sip:resource@127.0.0.1>',
    `Call-ID: sub-${seq}`,
    `CSeq: 1 ${method}`,
    method === 'REFER' ? 'Refer-To: <sip:carol@127.0.0.1>' : 'Event: presence',
    `Expires: ${expires}`,
    // addr-spec form, as sipp's scenarios write it
    'Contact: sip:watcher@127.0.0.1:5070',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function inDialog(method: string, of: SipRequest, localTag: string, cseq: number, extra: string[]): string {
  // A request from the far end inside a dialog the engine's app started: From is the far end's To.
  return [
    `${method} sip:app@127.0.0.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK${method}${cseq}${seq}`,
    `From: ${of.getHeader('to')};tag=${localTag}`,
    `To: ${of.getHeader('from')}`,
    `Call-ID: ${of.callId}`,
    `CSeq: ${cseq} ${method}`,
    'Contact: <sip:notifier@127.0.0.1:5070>',
    'Max-Forwards: 70',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A request from the subscriber inside the dialog its SUBSCRIBE created (the app's tag is `ourTag`). */
function fromWatcher(method: string, subscribe: SipRequest, ourTag: string, cseq: number): string {
  return [
    `${method} sip:192.0.2.1:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKw${method}${cseq}${seq}`,
    `From: ${subscribe.getHeader('from')}`,
    `To: ${subscribe.getHeader('to')};tag=${ourTag}`,
    `Call-ID: ${subscribe.callId}`,
    `CSeq: ${cseq} ${method}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('subscription dialogs, the app as notifier', () => {
  it('a 202 to SUBSCRIBE creates a dialog; NOTIFYs go inside it; a terminating NOTIFY ends it, BYE does not', async () => {
    const { stack, bridge, connect } = await setup();
    const dialogs: Dialog[] = [];
    await connect((srf) =>
      srf.use('subscribe', async (req: SrfRequest, res: SrfResponse) => {
        dialogs.push(await srf.createUAS(req, res, NO_SDP));
      }),
    );
    const far = stack.inject(subscribeFromFarEnd());
    await waitFor(() => dialogs.length === 1, 'the subscription dialog at the app');
    const accepted = far.responses.at(-1)!;
    expect(accepted.status).toBe(202);
    expect(accepted.getHeader('contact')).toBe('<sip:192.0.2.1:5060>');
    const dlg = asSubscription(dialogs[0]!);
    expect(dlg.id).toBe(`${far.request.callId};from-tag=${far.request.fromTag}`);
    expect(bridge.dialog(dlg.id)?.usage).toBe('subscription');

    const active = dlg.request({
      method: 'NOTIFY',
      headers: { Event: 'presence', 'Subscription-State': 'active;expires=900' },
    });
    await waitFor(() => stack.sent.length === 1, 'the first NOTIFY');
    const notify = stack.sent[0]!.request;
    // RFC 6665 §4.1.2.2 / RFC 3261 §12.2.1.1: the remote target is the SUBSCRIBE's Contact.
    expect(notify.uri.toString()).toBe('sip:watcher@127.0.0.1:5070');
    expect(notify.toTag).toBe(far.request.fromTag);
    // The dialog's remote URI in name-addr form, as sofia-sip writes it.
    expect(notify.getHeader('to')).toBe(`<sip:watcher@127.0.0.1>;tag=${far.request.fromTag}`);
    expect(notify.fromTag).toBe(accepted.toTag);
    expect(notify.getHeader('cseq')).toBe('1 NOTIFY');
    stack.sent[0]!.respond(farResponse(notify, 200, 'OK', [], far.request.fromTag!));
    await active;

    // A BYE does not end a dialog whose only usage is a subscription.
    stack.inject(fromWatcher('BYE', far.request, accepted.toTag!, 2));
    expect(bridge.dialogs.size).toBe(1);

    const terminated = dlg.request({
      method: 'NOTIFY',
      headers: { Event: 'presence', 'Subscription-State': 'terminated;reason=noresource' },
    });
    await waitFor(() => stack.sent.length === 2, 'the terminating NOTIFY');
    expect(stack.sent[1]!.request.getHeader('cseq')).toBe('2 NOTIFY');
    expect(bridge.dialogs.size).toBe(0);
    stack.sent[1]!.respond(farResponse(stack.sent[1]!.request, 200, 'OK', [], far.request.fromTag!));
    await terminated;
    expect(dlg.getCountOfSubscriptions()).toBe(0);
  });

  it('an out-of-dialog REFER answered 202 creates a subscription dialog (its implicit subscription)', async () => {
    const { stack, bridge, connect } = await setup();
    await connect((srf) => srf.use('refer', (_req: SrfRequest, res: SrfResponse) => res.send(202)));
    const far = stack.inject(subscribeFromFarEnd('REFER'));
    await waitFor(() => far.responses.length === 1, 'the 202');
    const dialog = bridge.dialog(`${far.request.callId};from-tag=${far.request.fromTag}`);
    expect(dialog?.usage).toBe('subscription');
    expect(dialog?.role).toBe('uas');
  });

  it('a subscription not refreshed ends with its expiry', async () => {
    const { stack, bridge, connect } = await setup({ subscriptionGraceSeconds: 0 });
    await connect((srf) =>
      srf.use('subscribe', (req: SrfRequest, res: SrfResponse) => void srf.createUAS(req, res, NO_SDP)),
    );
    const far = stack.inject(subscribeFromFarEnd('SUBSCRIBE', 1));
    await waitFor(() => far.responses.length === 1 && bridge.dialogs.size === 1, 'the dialog');
    await waitFor(() => bridge.dialogs.size === 0, 'the subscription to expire', 5000);
  });
});

describe('subscription dialogs, the app as subscriber (createUAC SUBSCRIBE)', () => {
  it('the 202 creates the dialog the NOTIFYs arrive in; a terminating NOTIFY ends it', async () => {
    const { stack, bridge, connect } = await setup();
    const srf = await connect();
    const notified: string[] = [];
    // The bundled types have no `method` in CreateUACOptions; drachtio-srf takes INVITE or SUBSCRIBE.
    const options = { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '600' } };
    const uac = srf.createUAC('sip:resource@127.0.0.1:5070', options as Parameters<typeof srf.createUAC>[1]);
    await waitFor(() => stack.sent.length === 1, 'the SUBSCRIBE');
    const subscribe = stack.sent[0]!.request;
    expect(subscribe.getHeader('contact')).toBe('<sip:192.0.2.1:5060>');
    stack.sent[0]!.respond(
      farResponse(subscribe, 202, 'Accepted', ['Contact: <sip:notifier@127.0.0.1:5070>', 'Expires: 600']),
    );
    const dialog = asSubscription(await uac);
    expect(dialog.id).toBe(`${subscribe.callId};from-tag=${subscribe.fromTag}`);
    expect(bridge.dialog(dialog.id)?.usage).toBe('subscription');
    dialog.on('notify', (req: SrfRequest, res: SrfResponse) => {
      notified.push(req.get('Subscription-State') as string);
      res.send(200);
    });
    const active = stack.inject(
      inDialog('NOTIFY', subscribe, 'far-tag', 1, [
        'Event: presence',
        'Subscription-State: active;expires=600',
      ]),
    );
    await waitFor(() => active.responses.length === 1, 'the 200 to the first NOTIFY');
    expect(active.responses[0]!.status).toBe(200);
    expect(bridge.dialogs.size).toBe(1);
    const ended = stack.inject(
      inDialog('NOTIFY', subscribe, 'far-tag', 2, ['Event: presence', 'Subscription-State: terminated']),
    );
    await waitFor(() => ended.responses.length === 1, 'the 200 to the terminating NOTIFY');
    expect(notified).toEqual(['active;expires=600', 'terminated']);
    expect(bridge.dialogs.size).toBe(0);
  });

  it('a NOTIFY that overtakes the 202 waits for it, then arrives inside the dialog (RFC 6665 §4.1.2.4)', async () => {
    const { stack, bridge, connect } = await setup();
    const srf = await connect();
    const options = { method: 'SUBSCRIBE', headers: { Event: 'message-summary', Expires: '600' } };
    const uac = srf.createUAC('sip:resource@127.0.0.1:5070', options as Parameters<typeof srf.createUAC>[1]);
    await waitFor(() => stack.sent.length === 1, 'the SUBSCRIBE');
    const subscribe = stack.sent[0]!.request;
    const early = stack.inject(
      inDialog('NOTIFY', subscribe, 'far-tag', 1, [
        'Event: message-summary',
        'Subscription-State: active;expires=600',
      ]),
    );
    // Not refused for want of a dialog: it waits for the SUBSCRIBE's final response.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(early.responses).toEqual([]);
    const notified: string[] = [];
    void uac.then((dialog) =>
      asSubscription(dialog).on('notify', (req: SrfRequest, res: SrfResponse) => {
        notified.push(req.get('Subscription-State') as string);
        res.send(200);
      }),
    );
    stack.sent[0]!.respond(
      farResponse(
        subscribe,
        202,
        'Accepted',
        ['Contact: <sip:notifier@127.0.0.1:5070>', 'Expires: 600'],
        'far-tag',
      ),
    );
    await waitFor(() => early.responses.length === 1, 'the answer to the early NOTIFY');
    expect(early.responses[0]!.status).toBe(200);
    expect(notified).toEqual(['active;expires=600']);
    expect(bridge.dialog(`${subscribe.callId};from-tag=${subscribe.fromTag}`)?.usage).toBe('subscription');
  });

  it('a NOTIFY ahead of a SUBSCRIBE that is then refused gets 481', async () => {
    const { stack, connect } = await setup();
    const srf = await connect();
    const options = { method: 'SUBSCRIBE', headers: { Event: 'message-summary', Expires: '600' } };
    const uac = srf.createUAC('sip:resource@127.0.0.1:5070', options as Parameters<typeof srf.createUAC>[1]);
    uac.catch(() => {});
    await waitFor(() => stack.sent.length === 1, 'the SUBSCRIBE');
    const subscribe = stack.sent[0]!.request;
    const early = stack.inject(
      inDialog('NOTIFY', subscribe, 'far-tag', 1, ['Event: message-summary', 'Subscription-State: active']),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(early.responses).toEqual([]);
    stack.sent[0]!.respond(farResponse(subscribe, 489, 'Bad Event', [], 'far-tag'));
    await waitFor(() => early.responses.length === 1, 'the answer to the early NOTIFY');
    expect(early.responses[0]!.status).toBe(481);
  });
});
