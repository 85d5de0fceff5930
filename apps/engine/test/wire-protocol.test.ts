import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, WireFormatError } from '../src/wire/frame-decoder.ts';
import {
  AppMessageError,
  cdrEventMessage,
  msgSentReply,
  parseAppMessage,
  responseMessage,
  sipEventMessage,
  wireTime,
} from '../src/wire/protocol.ts';

describe('frame decoder', () => {
  it('decodes several frames in one chunk and one frame split over many chunks', () => {
    const d = new FrameDecoder();
    expect(d.push(Buffer.from('3#abc5#hello'))).toEqual(['abc', 'hello']);
    const frame = Buffer.from(encodeFrame('id|route|invite'));
    const out: string[] = [];
    for (const byte of frame) out.push(...d.push(Buffer.from([byte])));
    expect(out).toEqual(['id|route|invite']);
    expect(d.bufferedBytes).toBe(0);
  });

  it('counts the length in UTF-8 bytes', () => {
    const payload = 'id|sip||\r\nMESSAGE sip:x SIP/2.0\r\n\r\nhällo ☎';
    const frame = encodeFrame(payload);
    expect(frame.startsWith(`${Buffer.byteLength(payload)}#`)).toBe(true);
    const bytes = Buffer.from(frame);
    const d = new FrameDecoder();
    // split inside a multi-byte character
    expect([
      ...d.push(bytes.subarray(0, bytes.length - 2)),
      ...d.push(bytes.subarray(bytes.length - 2)),
    ]).toEqual([payload]);
  });

  it('rejects a length of six or more digits, a non-digit length, an empty and a zero length', () => {
    expect(() => new FrameDecoder().push(Buffer.from('123456#x'))).toThrow(WireFormatError);
    expect(() => new FrameDecoder().push(Buffer.from('1234567'))).toThrow(WireFormatError);
    expect(() => new FrameDecoder().push(Buffer.from('12a#xx'))).toThrow(WireFormatError);
    expect(() => new FrameDecoder().push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(WireFormatError);
    expect(() => new FrameDecoder().push(Buffer.from('#abc'))).toThrow(WireFormatError);
    expect(() => new FrameDecoder().push(Buffer.from('0#'))).toThrow(WireFormatError);
  });

  it('waits for the rest of a length split after its digits', () => {
    const d = new FrameDecoder();
    expect(d.push(Buffer.from('99'))).toEqual([]);
    expect(d.push(Buffer.from('999#'))).toEqual([]);
    expect(d.bufferedBytes).toBe(6);
  });
});

describe('app messages', () => {
  it('splits the leader tokens, keeping empty ones, from the SIP message', () => {
    const m = parseAppMessage('abc|sip||dlg-1\r\nBYE sip:placeholder SIP/2.0\r\n\r\n');
    expect(m).toEqual({
      msgId: 'abc',
      type: 'sip',
      args: ['', 'dlg-1'],
      sip: 'BYE sip:placeholder SIP/2.0\r\n\r\n',
    });
    expect(parseAppMessage('x|ping')).toEqual({ msgId: 'x', type: 'ping', args: [], sip: '' });
  });

  it('rejects a message without an id or a type', () => {
    expect(() => parseAppMessage('nobar')).toThrow(AppMessageError);
    expect(() => parseAppMessage('|ping')).toThrow(AppMessageError);
    expect(() => parseAppMessage('id|')).toThrow(AppMessageError);
  });
});

describe('engine messages', () => {
  const meta = {
    source: 'application' as const,
    bytes: 321,
    protocol: 'udp' as const,
    address: '127.0.0.1',
    port: 5060,
    time: new Date(Date.UTC(2026, 0, 1, 7, 8, 9, 123)),
  };

  it('formats the time as HH:MM:SS.microseconds in UTC', () => {
    expect(wireTime(meta.time)).toBe('07:08:09.123000');
  });

  it('formats each millisecond anew while reusing the text within one', () => {
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 23, 59, 59, ms));
    expect([wireTime(at(998)), wireTime(at(998)), wireTime(at(999)), wireTime(at(998))]).toEqual([
      '23:59:59.998000',
      '23:59:59.998000',
      '23:59:59.999000',
      '23:59:59.998000',
    ]);
    expect(wireTime(new Date(Date.UTC(2026, 0, 2, 0, 0, 0, 0)))).toBe('00:00:00.000000');
    expect(wireTime()).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3}000$/);
  });

  it('formats replies the way drachtio-srf tokenises them', () => {
    const ok = responseMessage('m1', 'OK', 'pong').split('|');
    expect(ok.slice(1)).toEqual(['response', 'm1', 'OK', 'pong']);
    const sent = msgSentReply('m2', meta, 'txn-1', undefined, 'OPTIONS sip:a SIP/2.0\r\n\r\n');
    const [leader, sip] = [sent.slice(0, sent.indexOf('\r\n')), sent.slice(sent.indexOf('\r\n') + 2)];
    const token = leader.split('|');
    // drachtio-srf reads token.slice(3): [OK, source, bytes, proto, addr, port, time, txnId]
    expect(token.slice(3, 11)).toEqual([
      'OK',
      'application',
      '321',
      'udp',
      '127.0.0.1',
      '5060',
      '07:08:09.123000',
      'txn-1',
    ]);
    expect(token.slice(11)).toEqual(['Msg sent:', '']);
    expect(sip).toBe('OPTIONS sip:a SIP/2.0\r\n\r\n');
    const inDialog = msgSentReply('m3', meta, 'txn-2', 'call;from-tag=1', 'BYE sip:b SIP/2.0\r\n\r\n');
    expect(inDialog.split('\r\n')[0]!.split('|').slice(11)).toEqual(['call;from-tag=1', '', 'Msg sent:', '']);
  });

  it('formats sip events with more than nine tokens, as drachtio-srf requires', () => {
    const ev = sipEventMessage({ ...meta, source: 'network' }, 'txn', 'dlg', 'INVITE sip:x SIP/2.0\r\n\r\n', {
      host: '127.0.0.1',
      port: 5080,
    });
    const token = ev.split('\r\n')[0]!.split('|');
    expect(token.slice(1)).toEqual([
      'sip',
      'network',
      '321',
      'udp',
      '127.0.0.1',
      '5060',
      '07:08:09.123000',
      'txn',
      'dlg',
      '127.0.0.1',
      '5080',
      '',
    ]);
    const plain = sipEventMessage(meta, 'unsolicited', 'dlg', 'BYE sip:x SIP/2.0\r\n\r\n');
    expect(plain.split('\r\n')[0]!.split('|').length).toBeGreaterThan(9);
  });

  it('formats cdr events', () => {
    const stop = cdrEventMessage(
      { kind: 'stop', source: 'network', reason: 'normal-release' },
      'BYE x',
      meta.time,
    );
    expect(stop.split('\r\n')[0]!.split('|').slice(1)).toEqual([
      'cdr:stop',
      'network',
      '07:08:09.123000',
      'normal-release',
    ]);
    const attempt = cdrEventMessage({ kind: 'attempt', source: 'application' }, 'INVITE x', meta.time);
    expect(attempt.split('\r\n')[0]!.split('|').slice(1)).toEqual([
      'cdr:attempt',
      'application',
      '07:08:09.123000',
    ]);
  });
});
