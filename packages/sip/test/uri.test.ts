import { describe, expect, it } from 'vitest';
import {
  type AbsoluteUri,
  classifyHost,
  escapeUser,
  NameAddr,
  parseNameAddr,
  parseSipUri,
  parseTelUri,
  parseUri,
  SipParseError,
  SipUri,
  scanHostname,
  scannedHostType,
  type TelUri,
  uriEquals,
} from '../src/index.ts';

describe('SIP URIs (RFC 3261 §19.1)', () => {
  it('parses every component', () => {
    const u = parseSipUri(
      'sips:alice:secret@Atlanta.Example.com:5061;transport=tcp;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent',
    );
    expect(u.scheme).toBe('sips');
    expect(u.user).toBe('alice');
    expect(u.password).toBe('secret');
    expect(u.host).toBe('Atlanta.Example.com');
    expect(u.hostType).toBe('domain');
    expect(u.port).toBe(5061);
    expect(u.transport).toBe('tcp');
    expect(u.lr).toBe(true);
    expect(u.params.get('maddr')).toBe('239.255.255.1');
    expect(u.headers.get('subject')).toBe('project%20x');
    expect(u.toString()).toBe(
      'sips:alice:secret@Atlanta.Example.com:5061;transport=tcp;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent',
    );
  });

  it('IPv4 and IPv6 hosts', () => {
    const v4 = parseSipUri('sip:192.0.2.4:5060');
    expect(v4.hostType).toBe('ipv4');
    expect(v4.user).toBeUndefined();
    const v6 = parseSipUri('sip:bob@[2001:db8::10]:5070;transport=udp');
    expect(v6.hostType).toBe('ipv6');
    expect(v6.host).toBe('2001:db8::10');
    expect(v6.hostport).toBe('[2001:db8::10]:5070');
    expect(v6.toString()).toBe('sip:bob@[2001:db8::10]:5070;transport=udp');
    expect(new SipUri({ host: '::1', port: 5060 }).toString()).toBe('sip:[::1]:5060');
  });

  it('escaping: user text round trip', () => {
    const user = escapeUser('a b@c%');
    expect(user).toBe('a%20b%40c%25');
    const u = new SipUri({ user, host: 'example.com' });
    expect(parseSipUri(u.toString()).userText).toBe('a b@c%');
    expect(parseSipUri('sip:%61lice@example.com').userText).toBe('alice');
  });

  it('telephone-subscriber user part with user=phone', () => {
    const u = parseSipUri('sip:+1-212-555-1212:1234@gateway.com;user=phone');
    expect(u.user).toBe('+1-212-555-1212');
    expect(u.password).toBe('1234');
    expect(u.params.get('user')).toBe('phone');
  });

  it('rejects malformed URIs with SipParseError(INVALID_URI)', () => {
    for (const bad of [
      'sip:',
      'sip:@example.com',
      'sip:alice@',
      'sip:alice@exa mple.com',
      'sip:alice@example.com:99999',
      'sip:alice@example.com:',
      'sip:alice@[::1',
      'sip:alice@[zz::1]',
      'sip:al%zzice@example.com',
      'sip:alice@example.com;',
      'sip:alice@example.com;a=',
      'sip:alice@example.com?x',
      'sip:a<b@example.com',
      '<sip:alice@example.com>',
      'alice@example.com',
      '1sip:x',
      'sip:alice@256.1.1.1',
      'sip:alice@example..com',
    ]) {
      let err: unknown;
      try {
        parseUri(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(SipParseError);
      expect((err as SipParseError).code, bad).toBe('INVALID_URI');
    }
  });

  it('other schemes are kept opaque', () => {
    const u = parseUri('urn:service:sos') as AbsoluteUri;
    expect(u.kind).toBe('absolute');
    expect(u.scheme).toBe('urn');
    expect(u.toString()).toBe('urn:service:sos');
  });
});

describe('host classification', () => {
  // URIs and Via headers classify a host while scanning it; it must agree with classifyHost().
  it('scanHostname classifies what it reads like classifyHost', () => {
    const hosts = [
      'example.com',
      'a-b.example.com.',
      '192.0.2.1',
      '255.255.255.255',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '01.002.3.4',
      '1234.1.1.1',
      '1..2.3',
      'a..b',
      '.a',
      '-a',
      'a_b',
      '1.2.3.4a',
      '',
      'x'.repeat(256),
    ];
    let seed = 17;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const alphabet = '0123456789.-_aZ:;@ ';
    for (let i = 0; i < 3000; i++) {
      let h = '';
      for (let j = rnd(16); j > 0; j--) h += alphabet[rnd(alphabet.length)];
      hosts.push(h);
    }
    for (const text of hosts) {
      const scanned = scanHostname(`<${text}>`, 1);
      const end = scanned >> 2;
      const read = `<${text}>`.slice(1, end);
      const expected = classifyHost(read);
      expect(scannedHostType(scanned), text).toBe(expected === 'ipv6' ? undefined : expected);
    }
  });
});

describe('URI comparison (RFC 3261 §19.1.4)', () => {
  const eq = (a: string, b: string) => uriEquals(parseUri(a), parseUri(b));

  it('equivalent URIs from the RFC', () => {
    expect(eq('sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp')).toBe(true);
    expect(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5')).toBe(true);
    expect(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;security=on')).toBe(true);
    expect(eq('sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on')).toBe(true);
    expect(
      eq(
        'sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com',
        'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com',
      ),
    ).toBe(true);
    expect(
      eq(
        'sip:alice@atlanta.com?subject=project%20x&priority=urgent',
        'sip:alice@atlanta.com?priority=urgent&subject=project%20x',
      ),
    ).toBe(true);
  });

  it('non-equivalent URIs from the RFC', () => {
    expect(eq('SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp')).toBe(false);
    expect(eq('sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting')).toBe(false);
    expect(eq('sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4')).toBe(false);
    expect(eq('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off')).toBe(false);
    expect(eq('sip:alice@example.com', 'sips:alice@example.com')).toBe(false);
  });
});

describe('TEL URIs (RFC 3966)', () => {
  it('global numbers with visual separators', () => {
    const t = parseTelUri('tel:+1-201-555-0123');
    expect(t.isGlobal).toBe(true);
    expect(t.number).toBe('+1-201-555-0123');
    expect(t.normalizedNumber).toBe('+12015550123');
    expect(t.toString()).toBe('tel:+1-201-555-0123');
  });

  it('local numbers need a phone-context', () => {
    const t = parseTelUri('tel:7042;phone-context=example.com');
    expect(t.isGlobal).toBe(false);
    expect(t.phoneContext).toBe('example.com');
    expect(() => parseTelUri('tel:7042')).toThrow(/phone-context/);
    expect(parseTelUri('tel:863-1234;phone-context=+1-914-555').phoneContext).toBe('+1-914-555');
  });

  it('parameters: ext, isub', () => {
    const t = parseTelUri('tel:+1-201-555-0123;ext=1234;isub=1411');
    expect(t.params.get('ext')).toBe('1234');
    expect(t.params.get('isub')).toBe('1411');
  });

  it('comparison ignores visual separators and parameter order', () => {
    expect(uriEquals(parseUri('tel:+1-201-555-0123'), parseUri('tel:+1(201)5550123'))).toBe(true);
    expect(uriEquals(parseUri('tel:+1-201-555-0123;ext=1'), parseUri('tel:+12015550123;EXT=1'))).toBe(true);
    expect(uriEquals(parseUri('tel:+12015550123'), parseUri('tel:+12015550124'))).toBe(false);
    expect(
      uriEquals(parseUri('tel:7042;phone-context=a.com'), parseUri('tel:7042;phone-context=b.com')),
    ).toBe(false);
  });

  it('rejects malformed numbers', () => {
    for (const bad of [
      'tel:',
      'tel:+',
      'tel:+1a',
      'tel:+1;=x',
      'tel:12 34;phone-context=x',
      'tel:+1;p@r=1',
    ]) {
      expect(() => parseUri(bad), bad).toThrow(SipParseError);
    }
  });
});

describe('name-addr and addr-spec (RFC 3261 §20.10)', () => {
  it('name-addr with quoted display name and escapes', () => {
    const na = parseNameAddr('"Mr. \\"Q\\" Smith" <sip:q@example.com;transport=tcp>;tag=1;expires=60');
    expect(na.displayName).toBe('Mr. "Q" Smith');
    expect(na.uri.toString()).toBe('sip:q@example.com;transport=tcp');
    expect(na.tag).toBe('1');
    expect(na.params.get('expires')).toBe('60');
    expect(na.toString()).toBe('"Mr. \\"Q\\" Smith" <sip:q@example.com;transport=tcp>;tag=1;expires=60');
  });

  it('addr-spec: parameters belong to the header, not the URI', () => {
    const na = parseNameAddr('sip:alice@example.com;tag=88;transport=tcp');
    expect(na.uri.toString()).toBe('sip:alice@example.com');
    expect(na.tag).toBe('88');
    expect(na.params.get('transport')).toBe('tcp');
    expect(na.toString()).toBe('<sip:alice@example.com>;tag=88;transport=tcp');
  });

  it('token display names and UTF-8 text', () => {
    expect(parseNameAddr('Alice  Smith <sip:a@b>').displayName).toBe('Alice Smith');
    const utf = new NameAddr(parseUri('sip:a@b'), 'Zoë');
    expect(utf.toString()).toBe('"Zoë" <sip:a@b>');
  });

  it('tel URIs as addresses', () => {
    const na = parseNameAddr('<tel:+15551234;phone-context=+1>;tag=x');
    expect((na.uri as TelUri).normalizedNumber).toBe('+15551234');
    expect(na.tag).toBe('x');
  });

  it('rejects malformed addresses', () => {
    for (const bad of [
      '',
      '"unterminated <sip:a@b>',
      'Name sip:a@b',
      '<sip:a@b',
      '< sip:a@b>',
      'sip:a@b?x=y',
      '<sip:a@b>;',
      '<sip:a@b> junk',
    ]) {
      expect(() => parseNameAddr(bad, 'to'), bad).toThrow(SipParseError);
    }
  });
});
