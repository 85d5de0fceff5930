import { describe, expect, it } from 'vitest';
import { sessionRefreshHeaders } from '../../src/calls/session-refresh.ts';

function request(headers: Record<string, string>) {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name: string) => lower.get(name.toLowerCase()) };
}

describe('sessionRefreshHeaders (RFC 4028 §9)', () => {
  it('echoes the interval and refresher, and requires timer when the refresher relies on it', () => {
    expect(
      sessionRefreshHeaders(
        request({ 'Session-Expires': '300;refresher=uac', Supported: 'replaces, timer' }),
      ),
    ).toEqual({ 'Session-Expires': '300;refresher=uac', Require: 'timer' });
  });

  it('names the sender (uac) when the request names no refresher', () => {
    expect(sessionRefreshHeaders(request({ 'Session-Expires': '1800', Supported: 'timer' }))).toEqual({
      'Session-Expires': '1800;refresher=uac',
      Require: 'timer',
    });
  });

  it('does not require timer from a sender that does not support it, nor when we refresh', () => {
    expect(sessionRefreshHeaders(request({ 'Session-Expires': '600;refresher=uac' }))).toEqual({
      'Session-Expires': '600;refresher=uac',
    });
    expect(
      sessionRefreshHeaders(request({ 'Session-Expires': '600; refresher=UAS', Supported: 'timer' })),
    ).toEqual({ 'Session-Expires': '600;refresher=uas' });
  });

  it('adds nothing to a request without a usable Session-Expires', () => {
    expect(sessionRefreshHeaders(request({}))).toEqual({});
    expect(sessionRefreshHeaders(request({ 'Session-Expires': 'soon' }))).toEqual({});
    // The whole value must be delta-seconds *(;param) (RFC 4028 §4), not just start with digits.
    expect(sessionRefreshHeaders(request({ 'Session-Expires': '300 minutes;refresher=uac' }))).toEqual({});
  });

  it('reads the refresher among other parameters, and a bad Supported only as not supporting timer', () => {
    expect(
      sessionRefreshHeaders(
        request({ 'Session-Expires': '900;x-vendor="a;b";refresher=uas', Supported: 'timer' }),
      ),
    ).toEqual({ 'Session-Expires': '900;refresher=uas' });
    expect(
      sessionRefreshHeaders(request({ 'Session-Expires': '900;refresher=uac', Supported: 'timer, <bad>' })),
    ).toEqual({ 'Session-Expires': '900;refresher=uac' });
  });
});
