import { afterEach, describe, expect, it } from 'vitest';
import { appContact, contactFor } from '../src/bridge/app-messages.ts';
import { cleanups, setup } from './bridge-harness.ts';
import { waitFor } from './helpers.ts';
import { farResponse, LISTENER } from './loopback-stack.ts';
import type { Dialog, SrfRequest, SrfResponse } from './srf.ts';

/**
 * An app's Contact goes out in name-addr form, `<sip:user@host:port>`, as drachtio-server (sofia-sip) always
 * writes it: peers, sipp scenarios among them, match on the angle brackets.
 */

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('appContact', () => {
  it('writes every address in angle brackets and replaces localhost', () => {
    expect(appContact('sip:foo@localhost', LISTENER)).toBe('<sip:foo@192.0.2.1:5060>');
    expect(appContact('sip:foo@203.0.113.5:5080;expires=60', LISTENER)).toBe(
      '<sip:foo@203.0.113.5:5080>;expires=60',
    );
    expect(appContact('"Foo" <sip:foo@localhost>, sip:bar@h', LISTENER)).toBe(
      '"Foo" <sip:foo@192.0.2.1:5060>, <sip:bar@h>',
    );
    expect(appContact('*', LISTENER)).toBe('*');
    // What does not parse goes out as written: the peer judges it, as it would from drachtio-server.
    expect(appContact('<sip:foo@h', LISTENER)).toBe('<sip:foo@h');
  });
});

describe('contactFor', () => {
  const tls = { ...LISTENER, transport: 'tls' as const, advertisedPort: 5061 };
  it('is a sip: URI with its transport on TLS, a SIPS URI only in a SIPS dialog (RFC 3261 §12.1.1)', () => {
    expect(contactFor(LISTENER)).toBe('<sip:192.0.2.1:5060>');
    // A phone that registered or called with sip: over TLS (baresip) takes no sips: Contact.
    expect(contactFor(tls)).toBe('<sip:192.0.2.1:5061;transport=tls>');
    expect(contactFor(tls, true)).toBe('<sips:192.0.2.1:5061;transport=tls>');
    expect(contactFor({ ...LISTENER, transport: 'wss' }, true)).toBe('<sips:192.0.2.1:5060;transport=wss>');
    // sips: over a plain transport would be a lie: it stays sip:.
    expect(contactFor(LISTENER, true)).toBe('<sip:192.0.2.1:5060>');
  });
});

describe('Contact of what apps send', () => {
  it('createUAC with an addr-spec Contact: the INVITE carries it in angle brackets', async () => {
    const { stack, connect } = await setup();
    const srf = await connect();
    void srf
      .createUAC('sip:bob@127.0.0.1:5070', {
        localSdp: 'v=0\r\no=app 1 1 IN IP4 192.0.2.1\r\n',
        headers: { Contact: 'sip:foo@localhost' },
      })
      .catch(() => {});
    await waitFor(() => stack.sent.length === 1, 'the INVITE');
    expect(stack.sent[0]!.request.getHeader('contact')).toBe('<sip:foo@192.0.2.1:5060>');
    stack.sent[0]!.respond(farResponse(stack.sent[0]!.request, 486, 'Busy Here'));
  });

  it('createUAS with an addr-spec Contact: the 200 carries it in angle brackets', async () => {
    const { stack, connect } = await setup();
    const dialogs: Dialog[] = [];
    await connect((srf) =>
      srf.invite(async (req: SrfRequest, res: SrfResponse) => {
        dialogs.push(
          await srf.createUAS(req, res, {
            localSdp: 'v=0\r\no=app 1 1 IN IP4 192.0.2.1\r\n',
            headers: { Contact: 'sip:foo@localhost' },
          }),
        );
      }),
    );
    const far = stack.inject(
      [
        'INVITE sip:service@127.0.0.1:5060 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKcontact1',
        'From: <sip:caller@127.0.0.1>;tag=c1',
        'To: <sip:service@127.0.0.1>',
        'Call-ID: contact-1',
        'CSeq: 1 INVITE',
        'Contact: <sip:caller@127.0.0.1:5070>',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    await waitFor(() => far.responses.some((r) => r.status === 200), 'the 200');
    expect(far.responses.find((r) => r.status === 200)!.getHeader('contact')).toBe(
      '<sip:foo@192.0.2.1:5060>',
    );
  });
});
