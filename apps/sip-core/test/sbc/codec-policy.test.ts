import { describe, expect, it } from 'vitest';
import { type CodecPolicyRow, effectiveCodecPolicy } from '../../src/sbc/codec-policy.ts';

const none: CodecPolicyRow = {
  codecAllow: [],
  codecStrip: [],
  codecMask: [],
  codecTranscode: [],
  ptime: null,
  dtmfEvents: null,
};

describe('effectiveCodecPolicy', () => {
  it('nothing set anywhere: no policy (the caller offer passes)', () => {
    expect(effectiveCodecPolicy(none, undefined, none)).toBeUndefined();
  });

  it('each field from the most specific row that sets it: gateway, then group, then domain', () => {
    const gateway = { ...none, codecAllow: ['PCMA'], ptime: 20 };
    const group = { ...none, codecAllow: ['PCMU', 'PCMA'], codecTranscode: ['PCMA'], dtmfEvents: true };
    const domain = { ...none, codecStrip: ['G722'], ptime: 30, codecTranscode: ['PCMU'] };
    expect(effectiveCodecPolicy(gateway, group, domain)).toEqual({
      allow: ['PCMA'],
      strip: ['G722'],
      transcode: ['PCMA'],
      ptime: 20,
      dtmfEvents: true,
    });
    expect(effectiveCodecPolicy(undefined, undefined, domain)).toEqual({
      strip: ['G722'],
      transcode: ['PCMU'],
      ptime: 30,
    });
  });

  it('an explicit false turns RFC 4733 events off below a group that turns them on', () => {
    const policy = effectiveCodecPolicy({ ...none, dtmfEvents: false }, { ...none, dtmfEvents: true });
    expect(policy).toBeUndefined();
  });
});
