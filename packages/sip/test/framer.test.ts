import { describe, expect, it } from 'vitest';
import { frameMessages, parseMessage, type SipRequest, StreamFramer } from '../src/index.ts';
import { INVITE, REGISTER } from './support/samples.ts';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('stream framing (RFC 3261 §18.3)', () => {
  it('splits back-to-back messages and keeps the leftover', () => {
    const partial = INVITE.slice(0, 100);
    const r = frameMessages(buf(REGISTER + INVITE + partial));
    expect(r.messages.map((m) => m.toString())).toEqual([REGISTER, INVITE]);
    expect(r.rest.toString()).toBe(partial);
    expect(r.error).toBeUndefined();
  });

  it('waits for a body that has not fully arrived', () => {
    const framer = new StreamFramer();
    const whole = buf(INVITE);
    const cut = whole.length - 10;
    expect(framer.push(whole.subarray(0, cut)).messages).toHaveLength(0);
    expect(framer.buffered).toBe(cut);
    const r = framer.push(whole.subarray(cut));
    expect(r.messages).toHaveLength(1);
    expect((parseMessage(r.messages[0] as Buffer, { transport: 'stream' }) as SipRequest).method).toBe(
      'INVITE',
    );
    expect(framer.buffered).toBe(0);
  });

  it('byte-by-byte delivery yields the same messages', () => {
    const framer = new StreamFramer();
    const all = buf(`${REGISTER}\r\n\r\n${INVITE}`);
    const got: string[] = [];
    let pings = 0;
    for (let i = 0; i < all.length; i++) {
      const r = framer.push(all.subarray(i, i + 1));
      for (const m of r.messages) got.push(m.toString());
      pings += r.pings;
    }
    expect(got).toEqual([REGISTER, INVITE]);
    // one CRLFCRLF delivered byte by byte is seen as two CRLF
    expect(pings).toBe(0);
  });

  it('reports CRLF keep-alive pings and pongs between messages (RFC 5626 §4.4.1)', () => {
    const r = frameMessages(buf(`\r\n\r\n${REGISTER}\r\n\r\n\r\n`));
    expect(r.pings).toBe(2);
    expect(r.pongs).toBe(1);
    expect(r.messages).toHaveLength(1);
    expect(r.rest.length).toBe(0);
    const pong = frameMessages(buf('\r\n'));
    expect(pong.pongs).toBe(1);
  });

  it('missing Content-Length makes the stream unframeable', () => {
    const r = frameMessages(buf(REGISTER.replace('Content-Length: 0\r\n', '')));
    expect(r.error?.code).toBe('MISSING_CONTENT_LENGTH');
    expect(r.messages).toHaveLength(0);
  });

  it('compact and folded Content-Length are understood', () => {
    const text = REGISTER.replace('Content-Length: 0', 'l:\r\n 5').replace(/\r\n\r\n$/, '\r\n\r\nhello');
    const r = frameMessages(buf(text));
    expect(r.messages).toHaveLength(1);
    expect(parseMessage(r.messages[0] as Buffer, { transport: 'stream' }).body.toString()).toBe('hello');
  });

  it('rejects invalid, duplicate or oversized Content-Length, and endless headers', () => {
    expect(frameMessages(buf(REGISTER.replace('Content-Length: 0', 'Content-Length: -1'))).error?.code).toBe(
      'INVALID_CONTENT_LENGTH',
    );
    expect(
      frameMessages(buf(REGISTER.replace('Content-Length: 0', 'Content-Length: 0\r\nl: 0'))).error?.code,
    ).toBe('DUPLICATE_HEADER');
    expect(
      frameMessages(buf(REGISTER.replace('Content-Length: 0', 'Content-Length: 99999999'))).error?.code,
    ).toBe('MESSAGE_TOO_LARGE');
    expect(
      frameMessages(buf(REGISTER.replace('Content-Length: 0', 'Content-Length: 99999999999'))).error?.code,
    ).toBe('INVALID_CONTENT_LENGTH');
    expect(
      frameMessages(buf(REGISTER.replace('Content-Length: 0', 'Content-Length: 2000')), {
        maxMessageSize: 1000,
      }).error?.code,
    ).toBe('MESSAGE_TOO_LARGE');
    const endless = frameMessages(buf(`INVITE sip:a@b SIP/2.0\r\n${'X-A: b\r\n'.repeat(10000)}`));
    expect(endless.error?.code).toBe('HEADER_SECTION_TOO_LARGE');
  });

  it('a failed framer stays failed', () => {
    const framer = new StreamFramer();
    expect(framer.push(buf('garbage\r\n\r\n')).error?.code).toBe('MISSING_CONTENT_LENGTH');
    expect(framer.push(buf(REGISTER)).error?.code).toBe('MISSING_CONTENT_LENGTH');
    expect(framer.error).toBeDefined();
    expect(framer.buffered).toBe(0);
  });
});
