import { describe, expect, it } from 'vitest';
import {
  createCancel,
  createNon2xxAck,
  createResponse,
  parseMessage,
  type SipRequest,
  type SipResponse,
  type SipUri,
} from '../src/index.ts';
import { INVITE, REGISTER } from './support/samples.ts';

const RESPONSE_401 =
  'SIP/2.0 401 Unauthorized\r\n' +
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.10\r\n' +
  'From: <sip:alice@example.com>;tag=1928301774\r\n' +
  'To: <sip:alice@example.com>;tag=37GkEhwl6\r\n' +
  'Call-ID: a84b4c76e66710@pc33.example.com\r\n' +
  'CSeq: 1 REGISTER\r\n' +
  'WWW-Authenticate: Digest realm="example.com", nonce="abc", algorithm=SHA-256, qop="auth"\r\n' +
  'WWW-Authenticate: Digest realm="example.com", nonce="abc", algorithm=MD5, qop="auth"\r\n' +
  'Content-Length: 0\r\n\r\n';

const ODD_BUT_VALID =
  'OPTIONS sip:[2001:db8::1]:5060;transport=tcp SIP/2.0\r\n' +
  'v: SIP/2.0/TCP [2001:db8::2]:5070\r\n' +
  ' ;branch=z9hG4bKfold\r\n' +
  'f: "Ünicode \\"quoted\\"" <sip:a@[2001:db8::2]>;tag=x\r\n' +
  't: sip:b@example.com\r\n' +
  'i: odd@[2001:db8::2]\r\n' +
  'CSeq:\t7\tOPTIONS\r\n' +
  'X-Latin1-Bytes: \xe9\xff\r\n' +
  'k: , \r\n' +
  'l: 4\r\n\r\n' +
  '\x00\xff\r\n';

describe('round trip: parse then serialise reproduces the input', () => {
  for (const [name, text] of Object.entries({ REGISTER, INVITE, RESPONSE_401, ODD_BUT_VALID })) {
    it(name, () => {
      const input = Buffer.from(text, 'latin1');
      const m = parseMessage(input);
      expect(m.toBuffer().equals(input)).toBe(true);
      // and again from our own output, with typed views touched in between
      void m.via;
      void m.from;
      void m.to;
      expect(parseMessage(m.toBuffer()).toBuffer().equals(input)).toBe(true);
    });
  }

  it('header values ending in a UTF-8 character whose last byte is 0xA0 keep it', () => {
    const text = REGISTER.replace('User-Agent: Switchboard-Test/1.0', 'User-Agent: voilà');
    const m = parseMessage(Buffer.from(text, 'utf8'));
    expect(m.userAgent).toBe('voilà');
    m.setHeader('Subject', 'déjà');
    expect(parseMessage(m.toBuffer()).getHeader('subject')).toBe('déjà');
  });

  it('bodies are bytes: non-UTF-8 content survives untouched', () => {
    const m = parseMessage(Buffer.from(ODD_BUT_VALID, 'latin1'));
    expect([...m.body]).toEqual([0x00, 0xff, 0x0d, 0x0a]);
  });

  it('typed views of the odd message', () => {
    const m = parseMessage(Buffer.from(ODD_BUT_VALID, 'latin1')) as SipRequest;
    expect((m.uri as SipUri).host).toBe('2001:db8::1');
    expect(m.topVia?.branch).toBe('z9hG4bKfold');
    expect(m.topVia?.port).toBe(5070);
    expect(m.callId).toBe('odd@[2001:db8::2]');
    expect(m.cseq).toEqual({ seq: 7, method: 'OPTIONS' });
    expect(m.getHeader('x-latin1-bytes')).toBe('\ufffd\ufffd');
    expect(m.fields('x-latin1-bytes')[0]?.value).toBe('\xe9\xff');
  });

  it('challenges are read in order', () => {
    const m = parseMessage(RESPONSE_401) as SipResponse;
    expect(m.wwwAuthenticate.map((c) => c.params.algorithm)).toEqual(['SHA-256', 'MD5']);
    expect(m.topVia?.received).toBe('192.0.2.10');
  });

  it('a proxy-style edit keeps every other byte', () => {
    const m = parseMessage(INVITE) as SipRequest;
    m.setHeader('Max-Forwards', (m.maxForwards ?? 70) - 1);
    m.prependVia('SIP/2.0/UDP proxy.example.com;branch=z9hG4bKproxy1');
    m.prependHeader('Record-Route', '<sip:proxy.example.com;lr>');
    const out = m.toBuffer().toString();
    const expected = INVITE.replace('Max-Forwards: 70', 'Max-Forwards: 69')
      .replace(
        'Via: SIP/2.0/TCP',
        'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKproxy1\r\nVia: SIP/2.0/TCP',
      )
      .replace('Record-Route: <sip:rr', 'Record-Route: <sip:proxy.example.com;lr>\r\nRecord-Route: <sip:rr');
    expect(out).toBe(expected);
    // the next hop sees the same message
    const back = parseMessage(out) as SipRequest;
    expect(back.via).toHaveLength(3);
    expect(back.recordRoute).toHaveLength(2);
  });

  // An unchanged message is written from its received header section in one piece; every kind of edit
  // must fall back to writing the fields one by one.
  it('direct edits of the header list are serialised (reordered, raw replaced, removed)', () => {
    const swapped = parseMessage(REGISTER);
    const [first, second] = swapped.headers;
    swapped.headers[0] = second as (typeof swapped.headers)[0];
    swapped.headers[1] = first as (typeof swapped.headers)[0];
    const lines = swapped.toBuffer().toString('latin1').split('\r\n');
    expect(lines.slice(1, 3)).toEqual(['Max-Forwards: 70', REGISTER.split('\r\n')[1]]);

    const rawEdited = parseMessage(REGISTER);
    const expires = rawEdited.headers.find((h) => h.key === 'expires');
    if (expires) expires.raw = 'Expires: 60';
    expect(rawEdited.toBuffer().toString('latin1')).toBe(REGISTER.replace('Expires: 3600', 'Expires: 60'));

    const valueEdited = parseMessage(REGISTER);
    const ua = valueEdited.headers.find((h) => h.key === 'user-agent');
    if (ua) {
      ua.value = 'Other/2.0';
      ua.raw = null;
    }
    expect(valueEdited.toBuffer().toString('latin1')).toContain('\r\nUser-Agent: Other/2.0\r\n');

    const removed = parseMessage(REGISTER);
    removed.headers.pop();
    expect(removed.toBuffer().toString('latin1')).toBe(REGISTER.replace('Content-Length: 0\r\n', ''));
  });

  it('a Request-URI changed in place, replaced, or a new method changes the start line', () => {
    const inPlace = parseMessage(INVITE) as SipRequest;
    expect(inPlace.toBuffer().toString()).toBe(INVITE);
    (inPlace.uri as SipUri).host = 'other.example.com';
    expect(inPlace.toBuffer().toString().split('\r\n')[0]).toBe('INVITE sip:bob@other.example.com SIP/2.0');

    const replaced = parseMessage(INVITE) as SipRequest;
    replaced.uri = replaced.uri.clone();
    expect(replaced.toBuffer().toString()).toBe(INVITE);
    (replaced.uri as SipUri).user = 'carol';
    expect(replaced.toBuffer().toString().split('\r\n')[0]).toBe(
      'INVITE sip:carol@biloxi.example.com SIP/2.0',
    );

    const method = parseMessage(REGISTER) as SipRequest;
    method.method = 'OPTIONS';
    expect(method.toBuffer().toString().split('\r\n')[0]).toBe('OPTIONS sip:example.com SIP/2.0');
  });

  it('a changed body is written after an unchanged header section', () => {
    const m = parseMessage(INVITE);
    m.body = Buffer.from('v=0\r\n');
    const headEnd = INVITE.indexOf('\r\n\r\n') + 4;
    expect(m.toBuffer().toString()).toBe(`${INVITE.slice(0, headEnd)}v=0\r\n`);
  });

  it('responses built from a parsed request parse back to the same identifiers', () => {
    const req = parseMessage(REGISTER) as SipRequest;
    const res = parseMessage(createResponse(req, 200, { toTag: 't1' }).toBuffer()) as SipResponse;
    expect(res.callId).toBe(req.callId);
    expect(res.cseq).toEqual(req.cseq);
    expect(res.topVia?.branch).toBe(req.topVia?.branch);
    expect(res.fromTag).toBe(req.fromTag);
    expect(res.toTag).toBe('t1');
  });
});

describe('CANCEL and non-2xx ACK construction', () => {
  it('CANCEL copies the INVITE identity with its top Via only (RFC 3261 §9.1)', () => {
    const invite = parseMessage(INVITE) as SipRequest;
    const cancel = parseMessage(createCancel(invite).toBuffer(), { validate: 'full' }) as SipRequest;
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.uri.toString()).toBe(invite.uri.toString());
    expect(cancel.via).toHaveLength(1);
    expect(cancel.topVia?.branch).toBe('z9hG4bK74bf9');
    expect(cancel.cseq).toEqual({ seq: 1, method: 'CANCEL' });
    expect(cancel.callId).toBe(invite.callId);
    expect(cancel.fromTag).toBe(invite.fromTag);
    expect(cancel.toTag).toBeUndefined();
    expect(cancel.route.map(String)).toEqual(invite.route.map(String));
  });

  it('ACK for a non-2xx response takes To from the response (RFC 3261 §17.1.1.3)', () => {
    const invite = parseMessage(INVITE) as SipRequest;
    const busy = createResponse(invite, 486, { toTag: 'busy1' });
    const ack = parseMessage(createNon2xxAck(invite, busy).toBuffer(), { validate: 'full' }) as SipRequest;
    expect(ack.method).toBe('ACK');
    expect(ack.toTag).toBe('busy1');
    expect(ack.cseq).toEqual({ seq: 1, method: 'ACK' });
    expect(ack.via).toHaveLength(1);
    expect(ack.topVia?.branch).toBe(invite.topVia?.branch);
  });
});
