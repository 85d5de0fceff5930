import { describe, expect, it } from 'vitest';
import { engineHonoursReplyMode, forEngine, replyModeOf } from '../src/sip/reply.ts';

describe('reply mode per engine', () => {
  it('is honoured by our engine only, as told by the version it reports at connect', () => {
    expect(engineHonoursReplyMode('v0.9.4-switchboard-engine')).toBe(true);
    expect(engineHonoursReplyMode('v0.9.4')).toBe(false);
    expect(engineHonoursReplyMode(undefined)).toBe(false);
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
