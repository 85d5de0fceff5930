import { describe, expect, it } from 'vitest';
import {
  type Contact,
  canonicalHeaderName,
  createRequest,
  createResponse,
  headerKey,
  parseMessage,
  randomHex,
  randomInto,
  SipParseError,
  type SipRequest,
  type SipResponse,
  type SipUri,
  tryParseMessage,
  Via,
  validateMessage,
} from '../src/index.ts';
import { INVITE, REGISTER, SDP } from './support/samples.ts';

describe('parsing typical messages', () => {
  it('REGISTER: typed access to registration headers', () => {
    const m = parseMessage(REGISTER) as SipRequest;
    expect(m.isRequest).toBe(true);
    expect(m.method).toBe('REGISTER');
    expect((m.uri as SipUri).host).toBe('example.com');
    const via = m.topVia as Via;
    expect(via.rport).toBe(true);
    expect(via.branch).toBe('z9hG4bK776asdhds');
    expect(via.port).toBe(5060);
    expect(m.from.displayName).toBe('Alice');
    expect(m.fromTag).toBe('1928301774');
    expect(m.toTag).toBeUndefined();
    const c = (m.contact as Contact[])[0] as Contact;
    expect(c.expires).toBe(3600);
    expect(c.q).toBe(0.7);
    expect(c.instance).toBe('urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF');
    expect(c.regId).toBe(1);
    expect(c.pushParams).toEqual({ 'pn-provider': 'apns' });
    expect((c.uri as SipUri).transport).toBe('udp');
    expect(m.supported).toEqual(['path', 'outbound', 'gruu']);
    expect(m.allow).toEqual(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS']);
    expect(m.userAgent).toBe('Switchboard-Test/1.0');
    expect(m.expires).toBe(3600);
    expect(m.contentLength).toBe(0);
  });

  it('INVITE: Via parameters, routes, session timers, reasons, body bytes', () => {
    const m = parseMessage(INVITE) as SipRequest;
    const v = m.via[1] as Via;
    expect(v.host).toBe('2001:db8::1');
    expect(v.hostType).toBe('ipv6');
    expect(v.port).toBe(5062);
    expect(v.sentBy).toBe('[2001:db8::1]:5062');
    expect(v.received).toBe('2001:db8::9');
    expect(v.rport).toBe(5062);
    expect(v.ttl).toBe(16);
    expect(v.maddr).toBe('239.1.1.1');
    expect(m.route.map((r) => (r.uri as SipUri).host)).toEqual(['p1.example.com', 'p2.example.com']);
    expect((m.route[0]!.uri as SipUri).lr).toBe(true);
    expect(m.recordRoute).toHaveLength(1);
    expect(m.sessionExpires).toEqual(expect.objectContaining({ seconds: 1800, refresher: 'uac' }));
    expect(m.minSE).toBe(90);
    expect(m.require).toEqual(['timer']);
    expect(m.diversion[0]?.params.get('reason')).toBe('unconditional');
    expect(m.historyInfo[0]?.params.get('index')).toBe('1');
    expect(m.reasons.map((r) => [r.protocol, r.cause, r.text])).toEqual([
      ['SIP', 200, 'Call completed elsewhere'],
      ['Q.850', 16, undefined],
    ]);
    expect(m.getHeader('x-custom')).toBe('keep   this  spacing');
    expect(m.body.toString()).toBe(SDP);
    expect(m.toBuffer().toString()).toBe(INVITE);
  });

  it('Via values read while splitting equal those parsed from the fields (spacing, folding, lists)', () => {
    const variants = [
      'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport   ',
      'Via: SIP/2.0/UDP 192.0.2.10:5060\r\n ;branch=z9hG4bKfolded',
      'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2',
      'Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK3;x="q, v"\r\nv: SIP/2.0/UDP c.example.com:5;branch=z9hG4bK4',
      'Via:SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK5;received=192.0.2.1',
    ];
    for (const via of variants) {
      const m = parseMessage(
        REGISTER.replace('Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport', via),
      );
      const view = () => m.via.map((v) => v.toString());
      const inPlace = view();
      m.invalidate();
      expect(view(), via).toEqual(inPlace);
      expect(m.toBuffer().toString('latin1')).toContain(via);
    }
    // the folded one keeps its branch, the list gives two values
    expect(parseMessage(REGISTER.replace('rport', 'rport\r\n ;maddr=239.1.1.1')).topVia?.maddr).toBe(
      '239.1.1.1',
    );
  });

  it('compact forms and case-insensitive names map to the same header', () => {
    const text = REGISTER.replace('Call-ID:', 'i:').replace('Contact:', 'm:').replace('Via:', 'v:');
    const m = parseMessage(text.replace('Supported:', 'k:').replace('Content-Length:', 'l:'));
    expect(m.callId).toBe('a84b4c76e66710@pc33.example.com');
    expect(m.getHeader('CALL-ID')).toBe('a84b4c76e66710@pc33.example.com');
    expect(m.getHeader('i')).toBe('a84b4c76e66710@pc33.example.com');
    expect(m.supported).toEqual(['path', 'outbound', 'gruu']);
    expect(m.toBuffer().toString()).toContain('\r\ni: a84b4c76e66710@pc33.example.com\r\n');
    for (const [compact, long] of Object.entries({
      a: 'accept-contact',
      b: 'referred-by',
      c: 'content-type',
      d: 'request-disposition',
      e: 'content-encoding',
      f: 'from',
      j: 'reject-contact',
      o: 'event',
      r: 'refer-to',
      s: 'subject',
      t: 'to',
      u: 'allow-events',
      x: 'session-expires',
      y: 'identity',
    })) {
      expect(headerKey(compact.toUpperCase())).toBe(long);
    }
    expect(canonicalHeaderName('call-id')).toBe('Call-ID');
    expect(canonicalHeaderName('www-authenticate')).toBe('WWW-Authenticate');
    expect(canonicalHeaderName('max-forwards')).toBe('Max-Forwards');
  });

  it('Contact: * for removing all bindings', () => {
    const m = parseMessage(
      REGISTER.replace(/Contact: [^\r]*/, 'Contact: *').replace('Expires: 3600', 'Expires: 0'),
    );
    expect(m.contact).toBe('*');
    expect(m.expires).toBe(0);
  });

  it('repeated and comma-separated headers both enumerate in order', () => {
    const m = parseMessage(
      INVITE.replace(
        'Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
        'Route: <sip:p1.example.com;lr>\r\nRoute: <sip:p2.example.com;lr>',
      ),
    );
    expect(m.route.map((r) => r.uri.toString())).toEqual(['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
    expect(m.getHeaders('route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  });

  it('responses: status, reason, tags', () => {
    const m = parseMessage(
      'SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n',
    ) as SipResponse;
    expect(m.isRequest).toBe(false);
    expect(m.status).toBe(180);
    expect(m.reason).toBe('Ringing');
    expect(m.toTag).toBe('2');
  });

  it('tolerates leading CRLFs before the start line (RFC 3261 §7.5)', () => {
    expect((parseMessage(`\r\n\r\n${REGISTER}`) as SipRequest).method).toBe('REGISTER');
  });
});

describe('more typed headers', () => {
  const base = (extra: string, start = 'PRACK sip:bob@example.com SIP/2.0', method = 'PRACK') =>
    `${start}\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n` +
    `Call-ID: x\r\nCSeq: 2 ${method}\r\n${extra}Content-Length: 0\r\n\r\n`;

  it('RSeq / RAck (RFC 3262)', () => {
    const m = parseMessage(base('RAck: 776656 1 INVITE\r\n'));
    expect(m.rack).toEqual({ rseq: 776656, cseq: 1, method: 'INVITE' });
    const r = parseMessage(
      'SIP/2.0 183 Session Progress\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nRSeq: 776656\r\nRequire: 100rel\r\nContent-Length: 0\r\n\r\n',
    );
    expect(r.rseq).toBe(776656);
    expect(r.require).toEqual(['100rel']);
    expect(() => parseMessage(base('RAck: 1 INVITE\r\n')).rack).toThrow(SipParseError);
  });

  it('RAck: text after the method is ignored, as sofia-sip ignores it', () => {
    // Seen from UAs in the field (and drachtio-srf's own test scenarios): the method written twice.
    const m = parseMessage(base('RAck: 876419787 1 INVITE INVITE\r\n'));
    expect(m.rack).toEqual({ rseq: 876419787, cseq: 1, method: 'INVITE' });
    expect(() => parseMessage(base('RAck: 876419787 x INVITE\r\n')).rack).toThrow(SipParseError);
  });

  it('Path, Service-Route, Unsupported, Min-Expires, P-Asserted-Identity, Date', () => {
    const m = parseMessage(
      base(
        'Path: <sip:edge.example.com;lr;ob>\r\nService-Route: <sip:core.example.com;lr>, <sip:as.example.com;lr>\r\n' +
          'Unsupported: foo\r\nMin-Expires: 60\r\nP-Asserted-Identity: "Alice" <sip:alice@example.com>, <tel:+15551234>\r\n' +
          'Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n',
      ),
    );
    expect(m.path.map((p) => p.uri.toString())).toEqual(['sip:edge.example.com;lr;ob']);
    expect(m.serviceRoute).toHaveLength(2);
    expect(m.unsupported).toEqual(['foo']);
    expect(m.minExpires).toBe(60);
    expect(m.pAssertedIdentity.map((p) => p.uri.scheme)).toEqual(['sip', 'tel']);
    expect(m.date?.toISOString()).toBe('2010-11-13T23:29:00.000Z');
    expect(() => validateMessage(m)).not.toThrow();
  });

  it('Proxy-Authenticate / Proxy-Authorization values', () => {
    const m = parseMessage(
      base(
        'Proxy-Authorization: Digest username="alice", realm="r", nonce="n", uri="sip:bob@example.com", response="abc", qop=auth, nc=00000001, cnonce="c"\r\n',
      ),
    );
    const [cred] = m.proxyAuthorization;
    expect(cred?.scheme).toBe('Digest');
    expect(cred?.params).toMatchObject({
      username: 'alice',
      qop: 'auth',
      nc: '00000001',
      uri: 'sip:bob@example.com',
    });
  });

  it('validateMessage finds duplicate single-valued headers and bad values parse left lazy', () => {
    const m = parseMessage(base('Expires: 10\r\nExpires: 20\r\n'));
    expect(() => validateMessage(m)).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_HEADER', header: 'expires' }),
    );
    const lazy = parseMessage(base('Contact: <sip:a@b\r\n'));
    expect(() => lazy.contact).toThrow(
      expect.objectContaining({ code: 'INVALID_HEADER_VALUE', header: 'contact' }),
    );
    expect(() => validateMessage(lazy)).toThrow(SipParseError);
  });
});

describe('errors', () => {
  const bad = (text: string) => {
    const r = tryParseMessage(text);
    if (r.ok) throw new Error('accepted');
    return r.error;
  };

  it('returns SipParseError with code, status and header', () => {
    const e = bad(REGISTER.replace('Max-Forwards: 70', 'Max-Forwards: abc'));
    expect(e).toBeInstanceOf(SipParseError);
    expect(e.code).toBe('INVALID_HEADER_VALUE');
    expect(e.status).toBe(400);
    expect(e.header).toBe('max-forwards');
    expect(e.reasonPhrase).not.toMatch(/[\r\n]/);
    const hostile = bad(REGISTER.replace('Max-Forwards: 70', 'Max-Forwards: \x00\x7f\u00ff'));
    expect(hostile.reasonPhrase).toMatch(/^[\x20-\x7e]+$/);
  });

  it('rejects header injection attempts through the API', () => {
    const m = parseMessage(REGISTER);
    expect(() => m.setHeader('X-Evil', 'a\r\nVia: injected')).toThrow(RangeError);
    expect(() => m.setHeader('Bad Name', 'x')).toThrow(RangeError);
  });

  it('limits: size, header count, line length', () => {
    expect(tryParseMessage(REGISTER, { maxMessageSize: 100 })).toMatchObject({
      ok: false,
      error: { code: 'MESSAGE_TOO_LARGE', status: 513 },
    });
    expect(tryParseMessage(REGISTER, { maxHeaders: 5 })).toMatchObject({
      ok: false,
      error: { code: 'TOO_MANY_HEADERS' },
    });
    expect(tryParseMessage(REGISTER, { maxLineLength: 40 })).toMatchObject({
      ok: false,
      error: { code: 'LINE_TOO_LONG' },
    });
  });

  it('stream mode requires an exact Content-Length', () => {
    const noCl = REGISTER.replace('Content-Length: 0\r\n', '');
    expect(tryParseMessage(noCl, { transport: 'stream' })).toMatchObject({
      ok: false,
      error: { code: 'MISSING_CONTENT_LENGTH' },
    });
    expect(tryParseMessage(noCl).ok).toBe(true);
  });

  it('names specific problems', () => {
    expect(bad('').code).toBe('EMPTY_MESSAGE');
    expect(bad('INVITE sip:a@b SIP/2.0\r\nVia: x').code).toBe('MISSING_HEADER_TERMINATOR');
    expect(bad(REGISTER.replace('REGISTER sip', 'REG@STER sip')).code).toBe('INVALID_METHOD');
    expect(bad(REGISTER.replace('Max-Forwards: 70', 'Max Forwards: 70')).code).toBe('INVALID_HEADER_NAME');
    expect(bad(REGISTER.replace('Max-Forwards: 70', 'Max-Forwards 70')).code).toBe('INVALID_HEADER_NAME');
    expect(bad(REGISTER.replace('Via: SIP/2.0/UDP', ' SIP/2.0/UDP')).code).toBe('INVALID_HEADER_NAME');
    expect(bad(REGISTER.replace('SIP/2.0\r\n', 'SIP/2.0 \r\n')).code).toBe('INVALID_START_LINE');
    expect(bad(REGISTER.replace('SIP/2.0\r\n', 'HTTP/1.1\r\n')).code).toBe('INVALID_START_LINE');
    expect(bad(REGISTER.replace('sip:example.com SIP', 'sip:exa mple.com SIP')).code).toBe(
      'INVALID_REQUEST_URI',
    );
    expect(bad(REGISTER.replace('CSeq: 314159 REGISTER', 'CSeq: 314159')).header).toBe('cseq');
    expect(bad(REGISTER.replace('Call-ID: a84b4c76e66710@pc33.example.com', 'Call-ID: a b')).header).toBe(
      'call-id',
    );
    expect(bad(REGISTER.replace('Max-Forwards: 70', 'Max-Forwards: 256')).message).toContain('out of range');
    expect(bad(REGISTER.replace('Content-Length: 0', 'Content-Length: 10')).code).toBe('BODY_TRUNCATED');
    expect(
      bad(
        'SIP/2.0 99 Odd\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 A\r\n\r\n',
      ).code,
    ).toBe('INVALID_STATUS_CODE');
    expect(bad('SIP/3.0 200 OK\r\n\r\n').code).toBe('UNSUPPORTED_VERSION');
  });

  it('a bare CR or LF is the error reported even after an earlier bad line (CR before LF)', () => {
    const badName = REGISTER.replace('Max-Forwards: 70', 'Max Forwards: 70');
    expect(bad(badName).code).toBe('INVALID_HEADER_NAME');
    const bareLf = badName.replace('CSeq: 314159 REGISTER', 'CSeq: 314159\nREGISTER');
    expect(bad(bareLf).message).toBe('bare LF in header section');
    const both = bareLf.replace('Expires: 3600', 'Expires:\r3600');
    expect(bad(both).message).toBe('bare CR in header section');
    expect(bad(both).code).toBe('INVALID_HEADER_VALUE');
  });

  it('finds a bare CR or LF in an otherwise valid message: start line, a value, the last line', () => {
    const lastLine = REGISTER.slice(0, REGISTER.indexOf('\r\n\r\n'));
    const places = [
      REGISTER.replace('sip:example.com SIP/2.0', 'sip:example.com\nSIP/2.0'),
      REGISTER.replace('Expires: 3600', 'Expires: 36\n00'),
      REGISTER.replace('Expires: 3600', 'Expires: 3600\n'),
      `${lastLine}\nX-Last: 1\r\n\r\n`,
    ];
    for (const text of places) {
      expect(bad(text).message, JSON.stringify(text)).toBe('bare LF in header section');
      expect(bad(text.replace('\n', '\r')).message, JSON.stringify(text)).toBe('bare CR in header section');
    }
  });

  it('rejects every CTL byte but HTAB in a header value, and no other byte', () => {
    const withByte = (c: number) =>
      Buffer.from(
        REGISTER.replace('Expires: 3600', `Expires: 3600\r\nX-Byte: a${String.fromCharCode(c)}b`),
        'latin1',
      );
    for (let c = 0; c < 256; c++) {
      if (c === 0x0a || c === 0x0d) continue; // line breaks: framing, checked apart
      const ctl = (c < 0x20 && c !== 0x09) || c === 0x7f;
      const result = tryParseMessage(withByte(c));
      expect(result.ok, `byte 0x${c.toString(16)}`).toBe(!ctl);
    }
  });

  // RFC 3261 §25.1: TEXT-UTF8char and qdtext exclude every CTL but HTAB; only a quoted-pair may carry one.
  it('rejects a NUL or other control character anywhere but escaped in a quoted string', () => {
    const withHeader = (line: string) => REGISTER.replace('Expires: 3600', `Expires: 3600\r\n${line}`);
    const subject = bad(withHeader('Subject: hello\x00world'));
    expect(subject).toMatchObject({ code: 'INVALID_HEADER_VALUE', status: 400, header: 'subject' });
    expect(subject.message).toBe('control character 0x00 in the Subject header');
    expect(bad(withHeader('X-Note: a\x01b')).header).toBe('x-note');
    expect(bad(withHeader('X-Note: a\x7fb')).header).toBe('x-note');
    expect(bad(withHeader('X-Note: "a\x00b"')).header).toBe('x-note');
    // typed headers, through their fast paths and the full grammar alike
    expect(
      bad(REGISTER.replace('"Alice" <sip:alice@example.com>;tag', '"Al\x00ice" <sip:alice@example.com>;tag'))
        .header,
    ).toBe('from');
    expect(bad(REGISTER.replace(';rport', ';rport;x="a\x00b"')).header).toBe('via');
    expect(bad(REGISTER.replace('REGISTER sip:example.com', 'REGISTER sip:exa\x00mple.com')).status).toBe(
      400,
    );
    expect(bad(`SIP/2.0 200 O\x00K\r\n${REGISTER.slice(REGISTER.indexOf('\r\n') + 2)}`).code).toBe(
      'INVALID_START_LINE',
    );
    // HTAB is whitespace, and an escaped NUL in a quoted string is a valid quoted-pair
    expect(parseMessage(withHeader('Subject: a\tb')).getHeader('Subject')).toBe('a\tb');
    const escaped = parseMessage(
      REGISTER.replace('"Alice" <sip:alice@example.com>;tag', '"Al\\\x00ice" <sip:alice@example.com>;tag'),
    );
    expect(escaped.from.displayName).toBe('Al\x00ice');
    expect(parseMessage(withHeader('X-Note: "a\\\x00b"')).getHeader('X-Note')).toBe('"a\\\x00b"');
  });
});

describe('mutable message model', () => {
  it('get / set / append / prepend / remove headers', () => {
    const m = parseMessage(REGISTER);
    m.setHeader('Expires', 60);
    expect(m.expires).toBe(60);
    m.appendHeader('Supported', 'timer');
    expect(m.supported).toEqual(['path', 'outbound', 'gruu', 'timer']);
    m.prependHeader('X-First', 'yes');
    expect(m.headers[0]?.name).toBe('X-First');
    expect(m.removeHeader('supported')).toBe(2);
    expect(m.supported).toEqual([]);
    expect(m.hasHeader('user-agent')).toBe(true);
    m.setHeader('User-Agent', 'Ünïcode/1');
    expect(m.userAgent).toBe('Ünïcode/1');
    expect(m.toBuffer().includes(Buffer.from('User-Agent: Ünïcode/1\r\n', 'utf8'))).toBe(true);
    m.setHeader('X-Multi', ['a', 'b']);
    expect(m.getHeaders('x-multi')).toEqual(['a', 'b']);
    m.setHeader('X-Multi', []);
    expect(m.hasHeader('x-multi')).toBe(false);
  });

  it('typed views of the headers every parse reads follow edits (API and direct + invalidate)', () => {
    const m = parseMessage(INVITE);
    // parsing already cached these; every edit must drop the cached view
    m.setHeader('Via', 'SIP/2.0/UDP a.example.com;branch=z9hG4bK1');
    m.setHeader('From', '<sip:x@example.com>;tag=f');
    m.setHeader('To', '<sip:y@example.com>;tag=t');
    m.setHeader('Call-ID', 'new@example.com');
    m.setHeader('CSeq', '5 INVITE');
    m.setHeader('Max-Forwards', 3);
    m.setHeader('Content-Type', 'text/plain');
    m.setBody('hello', 'text/plain');
    expect(m.via.map((v) => v.host)).toEqual(['a.example.com']);
    expect([m.fromTag, m.toTag, m.callId, m.cseq.seq, m.maxForwards]).toEqual([
      'f',
      't',
      'new@example.com',
      5,
      3,
    ]);
    expect([m.contentType?.mediaType, m.contentLength]).toEqual(['text/plain', 5]);
    m.removeHeader('Max-Forwards');
    expect(m.maxForwards).toBeUndefined();

    const direct = parseMessage(REGISTER);
    expect(direct.cseq.seq).toBe(314159);
    const cseq = direct.headers.find((h) => h.key === 'cseq');
    if (cseq) cseq.value = '7 REGISTER';
    direct.invalidate();
    expect(direct.cseq.seq).toBe(7);
  });

  it('setHeader keeps position; untouched headers keep their bytes', () => {
    const m = parseMessage(INVITE);
    m.setHeader('Max-Forwards', 69);
    const out = m.toBuffer().toString();
    expect(out).toBe(INVITE.replace('Max-Forwards: 70', 'Max-Forwards: 69'));
  });

  it('prependVia / removeTopVia / replaceTopVia', () => {
    const m = parseMessage(INVITE);
    m.prependVia(new Via({ transport: 'udp', host: '10.0.0.1', port: 5060, params: undefined }));
    expect(m.via).toHaveLength(3);
    expect(m.topVia?.toString()).toBe('SIP/2.0/UDP 10.0.0.1:5060');
    const top = m.removeTopVia();
    expect(top?.host).toBe('10.0.0.1');
    expect(m.via).toHaveLength(2);
    const v = (m.topVia as Via).clone();
    v.received = '198.51.100.7';
    v.rport = 40000;
    m.replaceTopVia(v);
    expect(m.getHeader('via')).toBe(
      'SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=198.51.100.7;rport=40000',
    );
  });

  it('replaceTopVia on a parsed list: one Via per field or several in one, text and typed view agree', () => {
    // Two Via fields, one value each: the top field is rewritten and the parsed list kept.
    const separate = parseMessage(INVITE);
    expect(separate.via).toHaveLength(2);
    const stamped = separate.topVia as Via;
    stamped.received = '198.51.100.7';
    separate.replaceTopVia(stamped);
    const reparsed = parseMessage(separate.toBuffer());
    expect(reparsed.via.map(String)).toEqual(separate.via.map(String));
    expect(reparsed.topVia?.received).toBe('198.51.100.7');
    // One field listing two values: only the first value changes, the second stays in the same field.
    const joined = parseMessage(
      REGISTER.replace(';rport\r\n', ';rport, SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n'),
    );
    expect(joined.via).toHaveLength(2);
    const top = joined.topVia as Via;
    top.rport = 40000;
    joined.replaceTopVia(top);
    expect(joined.via).toHaveLength(2);
    expect(joined.via[0]?.rport).toBe(40000);
    expect(joined.via[1]?.host).toBe('b.example.com');
    expect(parseMessage(joined.toBuffer()).via.map(String)).toEqual(joined.via.map(String));
  });

  it('removeTopVia splits comma-joined Via values', () => {
    const m = parseMessage(
      REGISTER.replace(';rport\r\n', ';rport, SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n'),
    );
    expect(m.via).toHaveLength(2);
    m.removeTopVia();
    expect(m.via.map((v) => v.host)).toEqual(['b.example.com']);
  });

  it('status and Request-URI changes', () => {
    const r = parseMessage(INVITE) as SipRequest;
    (r.uri as SipUri).host = 'other.example.com';
    expect(r.toBuffer().toString().startsWith('INVITE sip:bob@other.example.com SIP/2.0\r\n')).toBe(true);
    const res = createResponse(r, 180);
    res.setStatus(486);
    expect(res.toBuffer().toString().startsWith('SIP/2.0 486 Busy Here\r\n')).toBe(true);
  });

  it('clone is deep', () => {
    const m = parseMessage(INVITE) as SipRequest;
    const c = m.clone();
    c.setHeader('Max-Forwards', 1);
    c.body[0] = 0x41;
    expect(m.maxForwards).toBe(70);
    expect(m.body[0]).toBe(0x76);
    expect(c.toBuffer().toString()).toContain('Max-Forwards: 1\r\n');
  });

  it('a clone of a retargeted request prints its new Request-URI', () => {
    const m = parseMessage(INVITE) as SipRequest;
    (m.uri as SipUri).host = 'other.example.com';
    const c = m.clone();
    expect(c.toBuffer().toString().startsWith('INVITE sip:bob@other.example.com SIP/2.0\r\n')).toBe(true);
    // An unchanged request keeps its start line byte for byte through a clone.
    const raw = parseMessage(INVITE) as SipRequest;
    expect(raw.clone().toBuffer().toString().split('\r\n')[0]).toBe(INVITE.toString().split('\r\n')[0]);
  });

  it('setBody updates Content-Length and Content-Type', () => {
    const m = parseMessage(REGISTER);
    m.setBody('hello', 'text/plain');
    expect(m.contentLength).toBe(5);
    expect(m.contentType?.mediaType).toBe('text/plain');
    const again = parseMessage(m.toBuffer(), { transport: 'stream' });
    expect(again.body.toString()).toBe('hello');
  });

  it('a message printed twice unchanged gives the same bytes, and every kind of change prints anew', () => {
    const m = parseMessage(INVITE) as SipRequest;
    const first = m.toBuffer();
    expect(m.toBuffer()).toBe(first);
    m.setHeader('Max-Forwards', 69);
    const afterSet = m.toBuffer();
    expect(afterSet).not.toBe(first);
    expect(afterSet.toString()).toContain('Max-Forwards: 69\r\n');
    (m.uri as SipUri).host = 'moved.example.com';
    expect(m.toBuffer().toString()).toMatch(/^INVITE sip:bob@moved\.example\.com SIP\/2\.0\r\n/);
    m.headers.push({ name: 'X-Pushed', key: 'x-pushed', value: '1', raw: null });
    expect(m.toBuffer().toString()).toContain('X-Pushed: 1\r\n');
    const stamped = (m.topVia as Via).clone();
    stamped.received = '192.0.2.9';
    m.replaceTopVia(stamped);
    expect(m.toBuffer().toString()).toContain(';received=192.0.2.9');
    m.setBody('changed', 'text/plain');
    expect(m.toBuffer().toString().endsWith('\r\n\r\nchanged')).toBe(true);
    const res = createResponse(m, 180, { toTag: 't1' });
    const ringing = res.toBuffer();
    res.setStatus(486);
    expect(res.toBuffer()).not.toBe(ringing);
    expect(res.toBuffer().toString().startsWith('SIP/2.0 486 Busy Here\r\n')).toBe(true);
  });

  it('ensureContentLength adds a missing Content-Length', () => {
    const m = parseMessage(REGISTER.replace('Content-Length: 0\r\n', ''));
    m.ensureContentLength();
    expect(m.contentLength).toBe(0);
  });
});

describe('pooled random identifiers', () => {
  it('never hands out the same bytes twice, across pool refills', () => {
    const seen = new Set<string>();
    // 4096-byte pool: 2000 x 8 bytes crosses several refills.
    for (let i = 0; i < 2000; i++) seen.add(randomHex(8));
    expect(seen.size).toBe(2000);
    for (const value of seen) expect(value).toMatch(/^[0-9a-f]{16}$/);
    const a = Buffer.alloc(20);
    const b = Buffer.alloc(20);
    randomInto(a, 4, 12);
    randomInto(b, 4, 12);
    expect(a.subarray(0, 4).equals(Buffer.alloc(4))).toBe(true);
    expect(a.subarray(4, 16).equals(b.subarray(4, 16))).toBe(false);
    expect(() => randomHex(5000)).toThrow(RangeError);
  });
});

describe('builders', () => {
  it('createResponse copies Via, From, To, Call-ID, CSeq and adds a To tag (RFC 3261 §8.2.6)', () => {
    const req = parseMessage(INVITE) as SipRequest;
    const res = createResponse(req, 200, { toTag: 'abc', body: 'v=0\r\n', contentType: 'application/sdp' });
    const text = res.toBuffer().toString();
    expect(text.startsWith('SIP/2.0 200 OK\r\n')).toBe(true);
    expect(res.getHeaders('via')).toEqual(req.getHeaders('via'));
    expect(res.from.toString()).toBe(req.from.toString());
    expect(res.toTag).toBe('abc');
    expect(res.callId).toBe(req.callId);
    expect(res.cseq).toEqual({ seq: 1, method: 'INVITE' });
    expect(res.contentLength).toBe(5);
    expect(res.hasHeader('record-route')).toBe(false);
    const reparsed = parseMessage(res.toBuffer(), { transport: 'stream' }) as SipResponse;
    expect(reparsed.status).toBe(200);
  });

  it('createResponse appends the To tag to the value as received (header parameters kept)', () => {
    const req = parseMessage(INVITE.replace(/\r\nTo: ([^\r]*)\r\n/, '\r\nTo: $1;x-mark=1\r\n')) as SipRequest;
    const received = req.getHeader('to');
    expect(received).toMatch(/;x-mark=1$/);
    const res = createResponse(req, 486, { toTag: 'bt1' });
    expect(res.getHeader('to')).toBe(`${received};tag=bt1`);
    const reparsed = parseMessage(res.toBuffer()) as SipResponse;
    expect(reparsed.toTag).toBe('bt1');
    expect(reparsed.to.params.get('x-mark')).toBe('1');
    expect(reparsed.to.uri.toString()).toBe(req.to.uri.toString());
  });

  it("a response reads the request's Via values without parsing them again, and edits its own", () => {
    const req = parseMessage(INVITE) as SipRequest;
    const res = createResponse(req, 180, { toTag: 'x' });
    expect(res.topVia).toBe(req.topVia);
    expect(res.via.map(String)).toEqual(parseMessage(res.toBuffer()).via.map(String));
    res.removeTopVia();
    expect(res.via).toHaveLength(req.via.length - 1);
    expect(req.via.map(String)).toEqual((parseMessage(INVITE) as SipRequest).via.map(String));
  });

  it('100 Trying gets no To tag and copies Timestamp', () => {
    const req = parseMessage(
      INVITE.replace('Max-Forwards: 70\r\n', 'Max-Forwards: 70\r\nTimestamp: 54\r\n'),
    ) as SipRequest;
    const res = createResponse(req, 100);
    expect(res.toTag).toBeUndefined();
    expect(res.getHeader('timestamp')).toBe('54');
    expect(res.reason).toBe('Trying');
  });

  it('an existing To tag is kept', () => {
    const req = parseMessage(
      INVITE.replace('To: Bob <sip:bob@biloxi.example.com>', 'To: <sip:bob@biloxi.example.com>;tag=xyz'),
    ) as SipRequest;
    expect(createResponse(req, 200).toTag).toBe('xyz');
  });

  it('createRequest fills in the mandatory headers', () => {
    const req = createRequest({
      method: 'OPTIONS',
      uri: 'sip:bob@example.com',
      from: '"Alice" <sip:alice@example.com>',
      to: 'sip:bob@example.com',
      via: 'SIP/2.0/UDP 192.0.2.1:5060;rport',
      contact: '<sip:alice@192.0.2.1:5060>',
      headers: [['User-Agent', 'Switchboard']],
    });
    const parsed = parseMessage(req.toBuffer(), { transport: 'stream', validate: 'full' }) as SipRequest;
    expect(parsed.method).toBe('OPTIONS');
    expect(parsed.maxForwards).toBe(70);
    expect(parsed.fromTag).toMatch(/^[0-9a-f]{16}$/);
    expect(parsed.topVia?.branch).toMatch(/^z9hG4bK[0-9a-f]{16}$/);
    expect(parsed.topVia?.rport).toBe(true);
    expect(parsed.cseq).toEqual({ seq: 1, method: 'OPTIONS' });
    expect(parsed.callId).toMatch(/^[0-9a-f]{24}$/);
    expect(parsed.userAgent).toBe('Switchboard');
    expect(parsed.from.displayName).toBe('Alice');
  });

  it('non-ASCII display names and parameters survive typed round trips as UTF-8', () => {
    const req = createRequest({
      method: 'MESSAGE',
      uri: 'sip:b@example.com',
      from: '"Zoë" <sip:z@example.com>;x="ü"',
      to: 'sip:b@example.com',
      via: 'SIP/2.0/UDP 192.0.2.1',
    });
    const wire = req.toBuffer();
    expect(wire.includes(Buffer.from('"Zoë" <sip:z@example.com>;x="ü";tag=', 'utf8'))).toBe(true);
    const back = parseMessage(wire) as SipRequest;
    expect(back.from.displayName).toBe('Zoë');
    expect(back.from.params.get('x')).toBe('ü');
    const res = createResponse(back, 200);
    expect(parseMessage(res.toBuffer()).from.displayName).toBe('Zoë');
  });
});
