import { parseDtmfEvent } from '@switchboard/media';
import { describe, expect, it } from 'vitest';
import { DtmfCode, validDtmfCode } from '../../src/recording/dtmf-code.ts';

/** The on-demand recording code: rtpengine's DTMF reports and the key sequence. */
describe('on-demand recording keys', () => {
  it("reads rtpengine's DTMF report (as rtpengine 10.5 sends it) and refuses anything else", () => {
    const report =
      '{"callid":"c1","source_tag":"A","tags":["A","B"],"type":"DTMF","timestamp":1796460821,' +
      '"source_ip":"127.0.0.1","event":10,"duration":80,"volume":10}';
    expect(parseDtmfEvent(report)).toMatchObject({ callId: 'c1', sourceTag: 'A', code: '*' });
    expect(parseDtmfEvent(report.replace('"event":10', '"event":16'))).toBeUndefined();
    expect(parseDtmfEvent('{"callid":"c1","event":1}')).toBeUndefined();
    expect(parseDtmfEvent('not json')).toBeUndefined();
  });

  it('recognises the code typed within the key gap, and only then', () => {
    const code = new DtmfCode('*1');
    expect(code.press('*', 1_000)).toBe(false);
    expect(code.press('1', 1_400)).toBe(true);
    // Too slow between the keys: started over.
    expect(code.press('*', 10_000)).toBe(false);
    expect(code.press('1', 14_000)).toBe(false);
    // Other keys before it do not matter.
    expect(code.press('5', 20_000)).toBe(false);
    expect(code.press('*', 20_200)).toBe(false);
    expect(code.press('1', 20_400)).toBe(true);
  });

  it('checks the setting values', () => {
    expect(validDtmfCode('*1')).toBe(true);
    expect(validDtmfCode('##9')).toBe(true);
    expect(validDtmfCode('')).toBe(false);
    expect(validDtmfCode('*x')).toBe(false);
  });
});
