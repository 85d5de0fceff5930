import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Contact,
  parseMessage,
  SipParseError,
  type SipParseErrorCode,
  type SipRequest,
  type SipResponse,
  type SipUri,
  type TelUri,
  validateMessage,
} from '../src/index.ts';

/**
 * RFC 4475 torture tests. The fixtures are the 49 message files of the RFC's bit-exact archive.
 * Every valid message is parsed and checked for specific values; every invalid one must be rejected with
 * a specific error code and answer status.
 */
const DIR = join(import.meta.dirname, 'fixtures', 'rfc4475');
const load = (name: string): Buffer => readFileSync(join(DIR, `${name}.dat`));
const req = (name: string): SipRequest => {
  const m = parseMessage(load(name), { validate: 'full', maxMessageSize: 65535 });
  if (!m.isRequest) throw new Error('expected a request');
  return m as SipRequest;
};
const res = (name: string): SipResponse => {
  const m = parseMessage(load(name), { validate: 'full' });
  if (m.isRequest) throw new Error('expected a response');
  return m as SipResponse;
};
const sip = (u: unknown): SipUri => u as SipUri;

function rejection(input: Buffer, validate: 'essential' | 'full' = 'full'): SipParseError {
  try {
    parseMessage(input, { validate });
  } catch (error) {
    expect(error).toBeInstanceOf(SipParseError);
    return error as SipParseError;
  }
  throw new Error('message was accepted');
}

describe('RFC 4475 §3.1.1 valid messages', () => {
  it('3.1.1.1 wsinv: short tortuous INVITE', () => {
    const m = req('wsinv');
    expect(m.method).toBe('INVITE');
    expect(m.uri.toString()).toBe('sip:vivekg@chair-dnrc.example.com;unknownparam');
    expect(m.to.uri.toString()).toBe('sip:vivekg@chair-dnrc.example.com');
    expect(m.to.tag).toBe('1918181833n');
    expect(m.from.displayName).toBe('J Rosenberg \\"');
    expect(sip(m.from.uri).user).toBe('jdrosen');
    expect(m.from.tag).toBe('98asjd8');
    expect(m.maxForwards).toBe(68);
    expect(m.callId).toBe('wsinv.ndaksdj@192.0.2.1');
    expect(m.contentLength).toBe(150);
    expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.via.map((v) => [v.transport, v.host, v.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(m.getHeader('subject')).toBe('');
    expect(m.getHeader('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.getHeader('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    expect(m.contentType?.mediaType).toBe('application/sdp');
    expect(m.route.map((r) => r.toString())).toEqual([
      '<sip:services.example.com;lr;unknownwith=value;unknown-no-value>',
    ]);
    const contacts = m.contact as Contact[];
    expect(contacts).toHaveLength(1);
    expect(contacts[0]?.displayName).toBe('Quoted string ""');
    expect(contacts[0]?.params.get('newparam')).toBe('newvalue');
    expect(contacts[0]?.params.get('secondparam')).toBeNull();
    expect(contacts[0]?.q).toBe(0.33);
    expect(m.body.length).toBe(150);
    expect(m.body.toString('latin1').startsWith('v=0\r\n')).toBe(true);
  });

  it('3.1.1.2 intmeth: wide range of valid characters', () => {
    const m = req('intmeth');
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    const uri = sip(m.uri);
    expect(uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(uri.host).toBe('example.com');
    expect(m.topVia?.branch).toBe("z9hG4bK-.!%66*_+`'~");
    expect(m.to.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    expect(sip(m.to.uri).user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(m.from.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.from.params.get("fromParam''~+*_!.-%")).toBe('работающий');
    expect(m.from.tag).toBe("_token~1'+`*%!-.");
    expect(m.callId).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    expect(m.cseq).toEqual({ seq: 139122385, method: "!interesting-Method0123456789_*+`.%indeed'~" });
    expect(m.maxForwards).toBe(255);
    expect(m.getHeader("extensionHeader-!.%*+_`'~")).toBe('\ufeff大停電');
    expect(m.body.length).toBe(0);
  });

  it('3.1.1.3 esc01: valid use of the % escaping mechanism', () => {
    const m = req('esc01');
    const uri = sip(m.uri);
    expect(uri.user).toBe('sips%3Auser%40example.com');
    expect(uri.userText).toBe('sips:user@example.com');
    expect(uri.host).toBe('example.net');
    expect(sip(m.to.uri).userText).toBe('user');
    expect(sip(m.from.uri).userText).toBe('I have spaces');
    const contact = (m.contact as Contact[])[0] as Contact;
    expect(sip(contact.uri).userText).toBe('caller');
    expect(sip(contact.uri).params.list).toEqual([
      { name: '%6C%72', value: null },
      { name: 'n%61me', value: 'v%61lue%25%34%31' },
    ]);
    expect(m.callId).toBe('esc01.239409asdfakjkn23onasd0-3234');
    expect(m.contentType?.mediaType).toBe('application/sdp');
  });

  it('3.1.1.4 escnull: escaped nulls in URIs', () => {
    const m = req('escnull');
    expect(sip(m.to.uri).userText).toBe('null-\x00-null');
    expect(sip(m.from.uri).userText).toBe('null-\x00-null');
    const contacts = m.contact as Contact[];
    expect(contacts.map((c) => sip(c.uri).userText)).toEqual(['\x00', '\x00\x00']);
    expect(m.contentLength).toBe(0);
  });

  it('3.1.1.5 esc02: use of % when it is not an escape', () => {
    const m = req('esc02');
    expect(m.method).toBe('RE%47IST%45R');
    expect(m.cseq.method).toBe('RE%47IST%45R');
    expect(m.to.displayName).toBe('%Z%45');
    expect(m.topVia?.branch).toBe('z9hG4bK209%fzsnel234');
    expect((m.contact as Contact[]).map((c) => sip(c.uri).host)).toEqual([
      'host1.example.com',
      'host3.example.com',
    ]);
    expect(m.getHeader('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
  });

  it('3.1.1.6 lwsdisp: message with no LWS between display name and <', () => {
    const m = req('lwsdisp');
    expect(m.from.displayName).toBe('caller');
    expect(sip(m.from.uri).user).toBe('caller');
    expect(m.from.tag).toBe('323');
  });

  it('3.1.1.7 longreq: long values in header fields', () => {
    const m = req('longreq');
    expect(m.to.displayName).toMatch(/^I have a user name of (extreme){10} proportion$/);
    expect(sip(m.to.uri).port).toBe(6000);
    expect(sip(m.to.uri).params.size).toBe(3);
    expect(m.from.tag).toMatch(/^12982982982/);
    expect(m.callId.startsWith('longreq.onereallyreally')).toBe(true);
    expect(m.via).toHaveLength(34);
    expect(m.via[0]?.host).toBe('sip33.example.com');
    expect(m.via[33]?.received).toBe('192.0.2.5');
    expect(m.via[33]?.branch?.startsWith('verylonglong')).toBe(true);
    expect(m.contentLength).toBe(150);
    expect(m.body.length).toBe(150);
  });

  it('3.1.1.8 dblreq: extra trailing octets in a UDP datagram are discarded', () => {
    const m = req('dblreq');
    expect(m.method).toBe('REGISTER');
    expect(m.callId).toBe('dblreq.0ha0isndaksdj99sdfafnl3lk233412');
    expect(m.body.length).toBe(0);
  });

  it('3.1.1.9 semiuri: semicolon-separated parameters in the URI user part', () => {
    const m = req('semiuri');
    const uri = sip(m.uri);
    expect(uri.user).toBe('user;par=u%40example.net');
    expect(uri.userText).toBe('user;par=u@example.net');
    expect(uri.host).toBe('example.com');
    expect(uri.params.size).toBe(0);
    expect(m.getHeader('accept')).toBe(
      'application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed, message/sip, message/sipfrag',
    );
  });

  it('3.1.1.10 transports: varied and unknown transport types', () => {
    const m = req('transports');
    expect(m.via.map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    expect(m.callId).toBe('transports.kijh4akdnaqjkwendsasfdj');
  });

  it('3.1.1.11 mpart01: multipart body is kept intact as bytes', () => {
    const m = req('mpart01');
    expect(m.method).toBe('MESSAGE');
    expect(m.contentType?.mediaType).toBe('multipart/mixed');
    expect(m.contentType?.params.get('boundary')).toBe('7a9cbec02ceef655');
    expect(m.body.length).toBe(m.contentLength);
    const raw = load('mpart01');
    expect(raw.subarray(raw.length - m.body.length).equals(m.body)).toBe(true);
  });

  it('3.1.1.12 unreason: unusual reason phrase', () => {
    const m = res('unreason');
    expect(m.status).toBe(200);
    expect(m.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
    expect(m.body.length).toBe(154);
  });

  it('3.1.1.13 noreason: empty reason phrase', () => {
    const m = res('noreason');
    expect(m.status).toBe(100);
    expect(m.reason).toBe('');
    expect(m.toTag).toBe('902jndnke3');
  });
});

describe('RFC 4475 §3.1.2 invalid messages', () => {
  const cases: Array<[string, SipParseErrorCode, number, string]> = [
    ['badinv01', 'INVALID_HEADER_VALUE', 400, 'via'],
    ['clerr', 'BODY_TRUNCATED', 400, 'content-length'],
    ['scalar02', 'INVALID_HEADER_VALUE', 400, 'cseq'],
    ['scalarlg', 'INVALID_HEADER_VALUE', 400, 'cseq'],
    ['quotbal', 'INVALID_HEADER_VALUE', 400, 'to'],
    ['ltgtruri', 'INVALID_REQUEST_URI', 400, ''],
    ['lwsruri', 'INVALID_REQUEST_URI', 400, ''],
    ['lwsstart', 'INVALID_REQUEST_URI', 400, ''],
    ['trws', 'INVALID_START_LINE', 400, ''],
    ['escruri', 'REQUEST_URI_HAS_HEADERS', 400, ''],
    ['baddate', 'INVALID_HEADER_VALUE', 400, 'date'],
    ['regbadct', 'INVALID_HEADER_VALUE', 400, 'contact'],
    ['badaspec', 'INVALID_HEADER_VALUE', 400, 'to'],
    ['badvers', 'UNSUPPORTED_VERSION', 505, ''],
    ['mismatch01', 'CSEQ_METHOD_MISMATCH', 400, 'cseq'],
    ['mismatch02', 'CSEQ_METHOD_MISMATCH', 400, 'cseq'],
    ['bigcode', 'INVALID_STATUS_CODE', 400, ''],
    ['mcl01', 'DUPLICATE_HEADER', 400, 'content-length'],
    ['multi01', 'DUPLICATE_HEADER', 400, 'from'],
    ['ncl', 'INVALID_CONTENT_LENGTH', 400, 'content-length'],
    ['insuf', 'MISSING_HEADER', 400, 'from'],
  ];
  for (const [name, code, status, header] of cases) {
    it(`${name} is rejected with ${code} (${status})`, () => {
      const error = rejection(load(name));
      expect(error.code).toBe(code);
      expect(error.status).toBe(status);
      if (header) expect(error.header).toBe(header);
      expect(error.message.length).toBeGreaterThan(10);
    });
  }

  it('the essential parse already rejects everything except the Date and Contact checks', () => {
    for (const [name, code] of cases) {
      if (name === 'baddate' || name === 'regbadct') continue;
      expect(rejection(load(name), 'essential').code).toBe(code);
    }
    expect(() => parseMessage(load('baddate'))).not.toThrow();
  });

  it('messages name the problem', () => {
    expect(rejection(load('scalar02')).message).toContain('sequence number out of range');
    expect(rejection(load('quotbal')).message).toContain('unterminated quoted string');
    expect(rejection(load('badaspec')).message).toContain('whitespace inside angle brackets');
    expect(rejection(load('regbadct')).message).toContain('must be enclosed in angle brackets');
    expect(rejection(load('baddate')).message).toContain('GMT');
    expect(rejection(load('bigcode')).message).toContain('4294967301');
    expect(rejection(load('badvers')).message).toContain('SIP/7.0');
    expect(rejection(load('clerr')).message).toContain('9999');
  });

  it('baddn: the archived file lacks its final empty line; either way it is rejected', () => {
    expect(rejection(load('baddn')).code).toBe('MISSING_HEADER_TERMINATOR');
    const fixed = Buffer.concat([load('baddn'), Buffer.from('\r\n')]);
    const error = rejection(fixed);
    expect(error.code).toBe('INVALID_HEADER_VALUE');
    expect(error.header).toBe('from');
    expect(error.message).toContain('display name');
  });
});

describe('RFC 4475 §3.2 transaction layer semantics', () => {
  it('3.2.1 badbranch: branch is only the magic cookie', () => {
    const m = req('badbranch');
    expect(m.topVia?.branch).toBe('z9hG4bK');
    expect(m.cseq).toEqual({ seq: 8, method: 'OPTIONS' });
  });
});

describe('RFC 4475 §3.3 application layer semantics', () => {
  it('3.3.1 insuf: missing required headers are named', () => {
    const error = rejection(load('insuf'));
    expect(error.message).toBe('missing From header');
  });

  it('3.3.2 unkscm: unknown Request-URI scheme parses, validation answers 416', () => {
    const m = parseMessage(load('unkscm')) as SipRequest;
    expect(m.uri.scheme).toBe('nobodyknowsthisscheme');
    expect(m.uri.toString()).toBe('nobodyknowsthisscheme:totallyopaquecontent');
    const error = rejection(load('unkscm'));
    expect(error.code).toBe('UNSUPPORTED_URI_SCHEME');
    expect(error.status).toBe(416);
    expect(() => validateMessage(m, { supportedUriSchemes: ['nobodyknowsthisscheme'] })).not.toThrow();
  });

  it('3.3.3 novelsc: request scheme headers with novel schemes', () => {
    const m = parseMessage(load('novelsc')) as SipRequest;
    expect(m.uri.scheme).toBe('soap.beep');
    expect(rejection(load('novelsc')).status).toBe(416);
  });

  it('3.3.4 unksm2: unknown URI schemes in To, From and Contact parse', () => {
    const m = req('unksm2');
    expect(m.to.uri.scheme).toBe('isbn');
    expect(m.to.uri.toString()).toBe('isbn:2983792873');
    expect(m.from.uri.toString()).toBe('http://www.example.com');
    expect(m.from.tag).toBe('3234233');
    expect((m.contact as Contact[])[0]?.uri.toString()).toBe('name:John_Smith');
  });

  it('3.3.5 bext01: Require and Proxy-Require are readable', () => {
    const m = req('bext01');
    expect(m.require).toEqual(['nothingSupportsThis', 'nothingSupportsThisEither']);
    expect(m.proxyRequire).toEqual(['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
    expect(m.topVia?.transport).toBe('TLS');
  });

  it('3.3.6 invut: unknown content type kept as bytes', () => {
    const m = req('invut');
    expect(m.contentType?.mediaType).toBe('application/unknownformat');
    expect(m.body.toString()).toBe('<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n');
  });

  it('3.3.7 regaut01: unknown authorization scheme', () => {
    const m = req('regaut01');
    expect(m.authorization).toEqual([{ scheme: 'NoOneKnowsThisScheme', params: { 'opaque-data': 'here' } }]);
  });

  it('3.3.8 multi01: multiple values in single-value headers', () => {
    expect(rejection(load('multi01')).code).toBe('DUPLICATE_HEADER');
  });

  it('3.3.9 mcl01: multiple Content-Length values', () => {
    expect(rejection(load('mcl01')).message).toContain('Content-Length');
  });

  it('3.3.10 bcast: 200 OK with broadcast Via sent-by', () => {
    const m = res('bcast');
    expect(m.via[1]?.host).toBe('255.255.255.255');
    expect(m.via[1]?.hostType).toBe('ipv4');
  });

  it('3.3.11 zeromf: Max-Forwards of zero', () => {
    expect(req('zeromf').maxForwards).toBe(0);
  });

  it('3.3.12 cparam01: REGISTER with a contact parameter (addr-spec form)', () => {
    const c = (req('cparam01').contact as Contact[])[0] as Contact;
    expect(c.params.has('unknownparam')).toBe(true);
    expect(sip(c.uri).params.size).toBe(0);
    expect(sip(c.uri).user).toBe('+19725552222');
  });

  it('3.3.13 cparam02: REGISTER with a URI parameter (name-addr form)', () => {
    const c = (req('cparam02').contact as Contact[])[0] as Contact;
    expect(c.params.size).toBe(0);
    expect(sip(c.uri).params.has('unknownparam')).toBe(true);
  });

  it('3.3.14 regescrt: REGISTER with a URI header in the Contact', () => {
    const c = (req('regescrt').contact as Contact[])[0] as Contact;
    expect(sip(c.uri).headers.get('Route')).toBe('%3Csip:sip.example.com%3E');
  });

  it('3.3.15 sdp01: unacceptable Accept offering', () => {
    const m = req('sdp01');
    expect(m.getHeader('accept')).toBe('text/nobodyKnowsThis');
    expect(m.body.length).toBe(150);
  });
});

describe('RFC 4475 §3.4 backward compatibility', () => {
  it('3.4.1 inv2543: INVITE with RFC 2543 syntax', () => {
    const m = req('inv2543');
    expect(m.topVia?.branch).toBeUndefined();
    expect(m.topVia?.isRfc3261Branch).toBe(false);
    expect(m.maxForwards).toBeUndefined();
    expect(m.from.tag).toBeUndefined();
    expect(m.contentLength).toBeUndefined();
    expect(m.to.uri.toString()).toBe('sip:+16505552222@ss1.example.net');
    expect(m.to.params.get('user')).toBe('phone');
    expect(m.recordRoute[0]?.uri.toString()).toBe('sip:UserB@example.com;maddr=ss1.example.com');
    expect(m.body.toString('latin1').startsWith('v=0')).toBe(true);
  });
});

describe('RFC 4475 fixture coverage', () => {
  it('every archived message is covered by this file', () => {
    const files = readdirSync(DIR).map((f) => f.replace(/\.dat$/, ''));
    expect(files).toHaveLength(49);
    const source = readFileSync(import.meta.filename, 'utf8');
    for (const f of files) expect(source).toContain(`'${f}'`);
  });

  it('valid messages serialise back to their exact bytes', () => {
    const valid = [
      'wsinv',
      'intmeth',
      'esc01',
      'escnull',
      'esc02',
      'lwsdisp',
      'longreq',
      'semiuri',
      'transports',
    ];
    valid.push(
      'mpart01',
      'unreason',
      'noreason',
      'badbranch',
      'unkscm',
      'novelsc',
      'unksm2',
      'bext01',
      'invut',
    );
    valid.push(
      'regaut01',
      'bcast',
      'zeromf',
      'cparam01',
      'cparam02',
      'regescrt',
      'sdp01',
      'inv2543',
      'baddate',
    );
    for (const name of valid) {
      const raw = load(name);
      const out = parseMessage(raw).toBuffer();
      expect(out.equals(raw), name).toBe(true);
    }
    // dblreq: only the first message of the datagram survives
    const dbl = load('dblreq');
    const out = parseMessage(dbl).toBuffer();
    expect(dbl.subarray(0, out.length).equals(out)).toBe(true);
    expect(out.toString('latin1').endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });

  it('TEL URIs in To parse (inv2543 uses user=phone SIP URIs instead)', () => {
    const m = parseMessage(
      'OPTIONS tel:+1-201-555-0123 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n' +
        'To: <tel:+1-201-555-0123>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    ) as SipRequest;
    expect((m.uri as TelUri).normalizedNumber).toBe('+12015550123');
  });
});
