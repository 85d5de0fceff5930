import { describe, expect, it } from 'vitest';
import { engineTraits } from '../src/sip/engine-traits.ts';
import { forEngine, replyModeOf } from '../src/sip/reply.ts';

describe('reply mode per engine', () => {
  it('is honoured by our engine only, as told by the version it reports at connect', () => {
    expect(engineTraits('v0.9.4-switchboard-engine')).toEqual({
      replyMode: true,
      contactOnProvisional: true,
    });
    expect(engineTraits('v0.9.4')).toEqual({ replyMode: false, contactOnProvisional: false });
    expect(engineTraits(undefined).replyMode).toBe(false);
  });

  it('keeps the header for our engine and takes it off, and only it, for drachtio-server', () => {
    const options = { headers: { 'X-Switchboard-Reply': 'drop', 'Retry-After': '60' } };
    expect(forEngine(options, true)).toBe(options);
    const plain = forEngine(options, false);
    expect(plain.headers).toEqual({ 'Retry-After': '60' });
    expect(replyModeOf(plain.headers)).toBe('stateful');
    expect(options.headers['X-Switchboard-Reply']).toBe('drop');
    expect(forEngine({}, false)).toEqual({});
  });
});
