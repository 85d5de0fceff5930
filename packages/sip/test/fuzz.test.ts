import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type NameAddr,
  parseMessage,
  parseNameAddr,
  parseUri,
  parseVia,
  SipParseError,
  type SipRequest,
  StreamFramer,
  validateMessage,
} from '../src/index.ts';
import { INVITE, REGISTER } from './support/samples.ts';

/** Small seeded PRNG (mulberry32): every run mutates the same way, failures are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = Buffer.from(':;,"<>%\\ \t[]@?=&/\r\n\x00\x7f\xff', 'latin1');
const DIR = join(import.meta.dirname, 'fixtures', 'rfc4475');
const SEEDS: Buffer[] = [
  Buffer.from(REGISTER),
  Buffer.from(INVITE),
  ...readdirSync(DIR).map((f) => readFileSync(join(DIR, f))),
];

function mutate(input: Buffer, rnd: () => number): Buffer {
  const pick = (n: number) => Math.floor(rnd() * n);
  let b = Buffer.from(input);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = pick(b.length + 1);
    switch (pick(7)) {
      case 0: // flip a byte
        if (b.length > 0) b[Math.min(at, b.length - 1)] = pick(256);
        break;
      case 1: // insert a special character
        b = Buffer.concat([
          b.subarray(0, at),
          SPECIAL.subarray(pick(SPECIAL.length)).subarray(0, 1),
          b.subarray(at),
        ]);
        break;
      case 2: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + pick(20))]);
        break;
      case 3: // duplicate a range
        b = Buffer.concat([b.subarray(0, at + pick(40)), b.subarray(at)]);
        break;
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: // fold a line
        b = Buffer.concat([b.subarray(0, at), Buffer.from('\r\n '), b.subarray(at)]);
        break;
      default: // random bytes
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(Array.from({ length: pick(8) }, () => pick(256))),
          b.subarray(at),
        ]);
    }
  }
  return b;
}

/** Touch every typed view a message offers; anything but SipParseError is a failure. */
function exercise(m: ReturnType<typeof parseMessage>): void {
  // Via values the parser read in place from the head must equal those parsed from the field values
  const viaView = (): string =>
    JSON.stringify(m.via.map((v) => [v.transport, v.host, v.hostType, v.port, v.params.list]));
  const inPlace = viaView();
  m.invalidate();
  expect(viaView()).toBe(inPlace);
  try {
    validateMessage(m);
  } catch (error) {
    expect(error).toBeInstanceOf(SipParseError);
  }
  const out = m.toBuffer();
  // what we serialise must parse again to the same start line and header count
  const again = parseMessage(out);
  expect(again.startLine()).toBe(m.startLine());
  expect(again.headers.length).toBe(m.headers.length);
  expect(again.body.equals(m.body)).toBe(true);
}

/** Every loop is bounded in count; on a very slow machine this time budget stops it earlier. */
const budget = (ms: number): (() => boolean) => {
  const end = Date.now() + ms;
  return () => Date.now() < end;
};

describe('fuzz: mutated and random messages (seeded, bounded)', { timeout: 60_000 }, () => {
  it('parseMessage returns a message or throws SipParseError, never anything else', () => {
    const rnd = prng(0x5eed);
    const more = budget(10_000);
    let parsed = 0;
    let rejected = 0;
    const codes = new Set<string>();
    for (let i = 0; i < 8_000 && more(); i++) {
      const seed = SEEDS[Math.floor(rnd() * SEEDS.length)] as Buffer;
      const input = mutate(seed, rnd);
      let message: ReturnType<typeof parseMessage> | undefined;
      try {
        message = parseMessage(input);
      } catch (error) {
        if (!(error instanceof SipParseError)) throw new Error(`iteration ${i}: ${String(error)}`);
        expect(error.code).not.toBe('INTERNAL_ERROR');
        expect(error.status).toBeGreaterThanOrEqual(400);
        codes.add(error.code);
        rejected++;
        continue;
      }
      parsed++;
      exercise(message);
    }
    expect(parsed).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
    expect(codes.size).toBeGreaterThan(8);
  });

  it('random byte strings are rejected cleanly', () => {
    const rnd = prng(42);
    const more = budget(10_000);
    for (let i = 0; i < 3000 && more(); i++) {
      const input = Buffer.from(
        Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)),
      );
      try {
        parseMessage(input);
      } catch (error) {
        expect(error).toBeInstanceOf(SipParseError);
      }
    }
  });

  it('URI and address parsers only throw SipParseError', () => {
    const rnd = prng(7);
    const uris = [
      'sip:alice:pw@[2001:db8::1]:5060;transport=tcp;lr?h=v&x=y',
      'tel:+1-201-555-0123;ext=1',
      'sips:a@b.c',
    ];
    const more = budget(10_000);
    for (let i = 0; i < 5000 && more(); i++) {
      const text = mutate(Buffer.from(uris[i % uris.length] as string), rnd).toString('latin1');
      try {
        const u = parseUri(text);
        expect(parseUri(u.toString()).toString()).toBe(u.toString());
      } catch (error) {
        expect(error).toBeInstanceOf(SipParseError);
      }
      let na: NameAddr | undefined;
      try {
        na = parseNameAddr(`"x" <${text}>;tag=1`);
      } catch (error) {
        expect(error).toBeInstanceOf(SipParseError);
      }
      if (na) expect(parseNameAddr(na.toString()).uri.toString()).toBe(na.uri.toString());
    }
  });

  // Via and address values of the usual shape take a fast path; anything else the full grammar. The
  // same text with a change the full grammar ignores ("SIP /2.0", a leading space) is forced through the
  // full grammar: both must accept and reject the same values and build the same objects.
  it('the fast paths for Via and addresses agree with the full grammar', () => {
    const rnd = prng(4475);
    const vias = [
      'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport',
      'SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bKabc;received=2001:db8::9;rport=5062;ttl=16;maddr=239.1.1.1',
      'SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;alias;x="q v"',
      'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKx;Branch=y',
      'SIP/2.0/SCTP h.example.com;branch=z9hG4bKq;x="a\\"b;c";y',
      // a control character is allowed only as a quoted-pair (RFC 3261 §25.1)
      'SIP/2.0/UDP h.example.com;branch=z9hG4bKn;x="a\x00b"',
      'SIP/2.0/UDP h.example.com;branch=z9hG4bKn;x="a\\\x00b"',
    ];
    const addresses = [
      '"Alice" <sip:alice@example.com>;tag=1928301774',
      'Bob <sip:bob@biloxi.example.com>',
      'J Rosenberg <sip:jdrosen@[2001:db8::2]:5061;transport=tcp?h=v>;tag=a;x="\xc3\xa9"',
      '<tel:+1-201-555-0123;ext=1>;tag=x',
      '<urn:service:sos>',
      '"J \\"R\\"" <sip:j@example.com>;x="\\\\";tag=1',
      '"" <sips:a:pw@b.c;lr>;expires=0;+sip.instance="<urn:uuid:1>"',
      '"Al\x00ice" <sip:alice@example.com>;tag=1',
      '"Al\\\x00ice" <sip:alice@example.com>;x="\x7f"',
    ];
    type Outcome = string;
    const outcome = (f: () => unknown): Outcome => {
      try {
        return JSON.stringify(f());
      } catch (error) {
        expect(error).toBeInstanceOf(SipParseError);
        return 'rejected';
      }
    };
    const viaView = (v: string) =>
      parseVia(v).map((x) => [
        x.protocolName,
        x.protocolVersion,
        x.transport,
        x.host,
        x.hostType,
        x.port,
        x.params.list,
      ]);
    const addressView = (v: string) => {
      const a = parseNameAddr(v, 'from');
      return [a.displayName, a.uri.toString(), a.uri.kind, a.params.list];
    };
    const more = budget(10_000);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 6000 && more(); i++) {
      const via = i % 2 === 0;
      const pool = via ? vias : addresses;
      const seed = pool[Math.floor(rnd() * pool.length)] as string;
      const text = i < 20 ? seed : mutate(Buffer.from(seed, 'latin1'), rnd).toString('latin1');
      const fast = outcome(() => (via ? viaView(text) : addressView(text)));
      const full = outcome(() => (via ? viaView(text.replace('SIP/', 'SIP /')) : addressView(` ${text}`)));
      expect(fast, text).toBe(full);
      if (fast === 'rejected') rejected++;
      else accepted++;
    }
    expect(accepted).toBeGreaterThan(200);
    expect(rejected).toBeGreaterThan(200);
  });

  it('the stream framer survives random chunking of mutated streams with bounded buffering', () => {
    const rnd = prng(99);
    const more = budget(10_000);
    for (let round = 0; round < 200 && more(); round++) {
      const framer = new StreamFramer({ maxMessageSize: 4096 });
      const stream = Buffer.concat(
        Array.from({ length: 5 }, () => mutate(Buffer.from(rnd() < 0.5 ? REGISTER : INVITE), rnd)),
      );
      let pos = 0;
      while (pos < stream.length) {
        const n = 1 + Math.floor(rnd() * 200);
        const r = framer.push(stream.subarray(pos, pos + n));
        pos += n;
        expect(framer.buffered).toBeLessThanOrEqual(4096 + 200);
        for (const m of r.messages) {
          try {
            parseMessage(m, { transport: 'stream' });
          } catch (error) {
            expect(error).toBeInstanceOf(SipParseError);
          }
        }
        if (r.error) {
          expect(r.error).toBeInstanceOf(SipParseError);
          break;
        }
      }
    }
  });

  it('pathological inputs stay bounded', () => {
    const many = `INVITE sip:a@b SIP/2.0\r\n${'Via: SIP/2.0/UDP h\r\n'.repeat(300)}\r\n`;
    expect(() => parseMessage(many)).toThrow(expect.objectContaining({ code: 'TOO_MANY_HEADERS' }));
    const longLine = `INVITE sip:a@b SIP/2.0\r\nX: ${'a'.repeat(9000)}\r\n\r\n`;
    expect(() => parseMessage(longLine)).toThrow(expect.objectContaining({ code: 'LINE_TOO_LONG' }));
    const quotes = `${REGISTER.replace('"Alice" <', `"${'\\"'.repeat(2000)}" <`)}`;
    const m = parseMessage(quotes) as SipRequest;
    expect(m.to.displayName).toBe('"'.repeat(2000));
    const commas = REGISTER.replace('Supported: path, outbound, gruu', `Supported: ${'a,'.repeat(3000)}a`);
    expect(parseMessage(commas).supported).toHaveLength(3001);
    const semis = REGISTER.replace(';rport', ';'.repeat(5000));
    expect(() => parseMessage(semis)).toThrow(SipParseError);
  });
});
