import { describe, expect, it } from 'vitest';
import { parseDtmfInfo } from '../../src/calls/dtmf-info.ts';
import { dtmfRelayBody } from '../../src/calls/dtmf-to-info.ts';

describe('parseDtmfInfo', () => {
  it('reads Signal and Duration of an application/dtmf-relay body', () => {
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=5\r\nDuration=250\r\n')).toEqual({
      code: '5',
      durationMs: 250,
    });
    expect(parseDtmfInfo('Application/DTMF-Relay', 'signal= #\nduration = 100')).toEqual({
      code: '#',
      durationMs: 100,
    });
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=a')).toEqual({ code: 'A', durationMs: 160 });
  });

  it('keeps the duration within 40 ms and 2 s', () => {
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=1\r\nDuration=5')?.durationMs).toBe(40);
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=1\r\nDuration=99999')?.durationMs).toBe(2000);
  });

  it('reads an application/dtmf body, the key alone', () => {
    expect(parseDtmfInfo('application/dtmf', '5')).toEqual({ code: '5', durationMs: 160 });
    expect(parseDtmfInfo('Application/DTMF; charset=us-ascii', '#\r\n')).toEqual({
      code: '#',
      durationMs: 160,
    });
    expect(parseDtmfInfo('application/dtmf', '12')).toBeUndefined();
    expect(parseDtmfInfo('application/dtmf', 'Signal=5')).toBeUndefined();
  });

  it('is no key for another content type, no signal or a signal outside RFC 4733 events 0-15', () => {
    expect(parseDtmfInfo('application/dtmfx', '5')).toBeUndefined();
    expect(parseDtmfInfo('text/plain', 'Signal=5')).toBeUndefined();
    expect(parseDtmfInfo('application/dtmf-relay', 'Duration=160')).toBeUndefined();
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=16')).toBeUndefined();
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=E')).toBeUndefined();
    expect(parseDtmfInfo(undefined, 'Signal=5')).toBeUndefined();
    expect(parseDtmfInfo('application/dtmf-relay', undefined)).toBeUndefined();
  });
});

describe('dtmfRelayBody', () => {
  it('writes the key the way parseDtmfInfo reads it', () => {
    const body = dtmfRelayBody({ code: '#', durationMs: 200 });
    expect(body).toBe('Signal=#\r\nDuration=200\r\n');
    expect(parseDtmfInfo('application/dtmf-relay', body)).toEqual({ code: '#', durationMs: 200 });
  });
});
