import { describe, expect, it } from 'vitest';
import { parseDtmfRelay } from '../../src/calls/dtmf-info.ts';
import { dtmfRelayBody } from '../../src/calls/dtmf-to-info.ts';

describe('parseDtmfRelay', () => {
  it('reads Signal and Duration of an application/dtmf-relay body', () => {
    expect(parseDtmfRelay('application/dtmf-relay', 'Signal=5\r\nDuration=250\r\n')).toEqual({
      code: '5',
      durationMs: 250,
    });
    expect(parseDtmfRelay('Application/DTMF-Relay', 'signal= #\nduration = 100')).toEqual({
      code: '#',
      durationMs: 100,
    });
    expect(parseDtmfRelay('application/dtmf-relay', 'Signal=a')).toEqual({ code: 'A', durationMs: 160 });
  });

  it('keeps the duration within 40 ms and 2 s', () => {
    expect(parseDtmfRelay('application/dtmf-relay', 'Signal=1\r\nDuration=5')?.durationMs).toBe(40);
    expect(parseDtmfRelay('application/dtmf-relay', 'Signal=1\r\nDuration=99999')?.durationMs).toBe(2000);
  });

  it('is no key for another content type, no signal or a signal outside RFC 4733 events 0-15', () => {
    expect(parseDtmfRelay('application/dtmf', '5')).toBeUndefined();
    expect(parseDtmfRelay('text/plain', 'Signal=5')).toBeUndefined();
    expect(parseDtmfRelay('application/dtmf-relay', 'Duration=160')).toBeUndefined();
    expect(parseDtmfRelay('application/dtmf-relay', 'Signal=16')).toBeUndefined();
    expect(parseDtmfRelay('application/dtmf-relay', 'Signal=E')).toBeUndefined();
    expect(parseDtmfRelay(undefined, 'Signal=5')).toBeUndefined();
    expect(parseDtmfRelay('application/dtmf-relay', undefined)).toBeUndefined();
  });
});

describe('dtmfRelayBody', () => {
  it('writes the key the way parseDtmfRelay reads it', () => {
    const body = dtmfRelayBody({ code: '#', durationMs: 200 });
    expect(body).toBe('Signal=#\r\nDuration=200\r\n');
    expect(parseDtmfRelay('application/dtmf-relay', body)).toEqual({ code: '#', durationMs: 200 });
  });
});
