import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse, parseMessage, type SipRequest } from '../src/messages/index.ts';
import {
  acceptedSessionTimer,
  answerSessionTimer,
  ReliableProvisional,
  RSeqCounter,
  SessionTimer,
  tooShortSession,
} from '../src/session/index.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function request(method: string, extra = ''): SipRequest {
  return parseMessage(
    `${method} sip:bob@192.0.2.4 SIP/2.0\r\n` +
      'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsess1\r\n' +
      'Max-Forwards: 70\r\n' +
      'From: <sip:alice@192.0.2.1>;tag=a1\r\n' +
      'To: <sip:bob@192.0.2.4>\r\n' +
      'Call-ID: session-1\r\n' +
      `CSeq: 1 ${method}\r\n` +
      'Contact: <sip:alice@192.0.2.1>\r\n' +
      extra +
      'Content-Length: 0\r\n\r\n',
  ) as SipRequest;
}

describe('ReliableProvisional (RFC 3262 §3, UAS)', () => {
  function provisional(rseq: number) {
    const retransmit = vi.fn();
    const timedOut = vi.fn();
    return { p: new ReliableProvisional(rseq, 500, { retransmit, timedOut }), retransmit, timedOut };
  }

  it('retransmitting: sends again at T1, 2*T1, 4*T1 ... until the PRACK naming its RSeq', () => {
    const { p, retransmit, timedOut } = provisional(7);
    vi.advanceTimersByTime(499);
    expect(retransmit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(retransmit).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(retransmit).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(2000);
    expect(retransmit).toHaveBeenCalledTimes(3);
    // retransmitting → acknowledged: a PRACK for another RSeq does not count (§7.2 of the UAS)
    expect(p.acknowledge({ rseq: 6 })).toBe(false);
    expect(p.state).toBe('retransmitting');
    expect(p.acknowledge({ rseq: 7 })).toBe(true);
    expect(p.state).toBe('acknowledged');
    vi.advanceTimersByTime(60_000);
    expect(retransmit).toHaveBeenCalledTimes(3);
    expect(timedOut).not.toHaveBeenCalled();
  });

  it('retransmitting → timed-out after 64*T1 without PRACK', () => {
    const { p, retransmit, timedOut } = provisional(1);
    vi.advanceTimersByTime(63_499);
    expect(timedOut).not.toHaveBeenCalled();
    // sent at 0 and again at T1, 3T1, 7T1, 15T1, 31T1, 63T1: the wait is over once 64*T1 have been spent waiting
    expect(retransmit).toHaveBeenCalledTimes(6);
    vi.advanceTimersByTime(1);
    expect(timedOut).toHaveBeenCalledTimes(1);
    expect(retransmit).toHaveBeenCalledTimes(6);
    expect(p.state).toBe('timed-out');
    expect(p.acknowledge({ rseq: 1 })).toBe(false);
  });

  it('retransmitting → stopped when the INVITE is answered finally', () => {
    const { p, retransmit } = provisional(1);
    p.stop();
    expect(p.state).toBe('stopped');
    vi.advanceTimersByTime(60_000);
    expect(retransmit).not.toHaveBeenCalled();
  });

  it('RSeqCounter starts between 1 and 2^31 - 1 and counts up by one', () => {
    const low = new RSeqCounter(() => 0);
    expect(low.next()).toBe(1);
    expect(low.next()).toBe(2);
    const high = new RSeqCounter(() => 0.9999999999);
    const first = high.next();
    expect(first).toBeLessThanOrEqual(0x7fffffff);
    expect(first).toBeGreaterThan(0x7fff0000);
  });
});

describe('SessionTimer (RFC 4028 §10)', () => {
  function timer() {
    const refresh = vi.fn();
    const expire = vi.fn();
    return { t: new SessionTimer({ refresh, expire }, () => 0.5), refresh, expire };
  }
  /** A refresher's timer at the moment it sends its refresh (half of 90 s). */
  function refreshing() {
    const started = timer();
    started.t.start(90, true);
    vi.advanceTimersByTime(45_000);
    return started;
  }

  it('refresher: idle → running → refreshing at half the interval; a 2xx restarts it', () => {
    const { t, refresh, expire } = timer();
    expect(t.state).toBe('idle');
    t.start(90, true);
    expect(t.state).toBe('running');
    vi.advanceTimersByTime(44_999);
    expect(refresh).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(t.state).toBe('refreshing');
    expect(t.refreshAnswered(200, { seconds: 120, refresher: 'uac' }, undefined)).toBe('restarted');
    expect(t.state).toBe('running');
    expect(t.interval).toBe(120);
    vi.advanceTimersByTime(60_000);
    expect(refresh).toHaveBeenCalledTimes(2);
    expect(expire).not.toHaveBeenCalled();
  });

  it('refresher: refreshing → stopped and expire when the refresh is not answered by the end', () => {
    const { t, expire } = timer();
    t.start(90, true);
    vi.advanceTimersByTime(90_000);
    expect(expire).toHaveBeenCalledTimes(1);
    expect(t.state).toBe('stopped');
  });

  it('watcher: expires at interval - min(32, interval/3) unless the peer refreshes (start again)', () => {
    const { t, refresh, expire } = timer();
    t.start(90, false);
    vi.advanceTimersByTime(59_000);
    t.start(90, false); // the peer's refresh arrived and was answered
    vi.advanceTimersByTime(59_999);
    expect(expire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expire).toHaveBeenCalledTimes(1);
    expect(refresh).not.toHaveBeenCalled();
    const long = timer();
    long.t.start(1800, false);
    vi.advanceTimersByTime(1768_000);
    expect(long.expire).toHaveBeenCalledTimes(1);
  });

  it('refreshing → running as watcher when the 2xx names refresher=uas (§7.2)', () => {
    const { t, refresh } = refreshing();
    expect(t.refreshAnswered(200, { seconds: 90, refresher: 'uas' }, undefined)).toBe('restarted');
    expect(t.weRefresh).toBe(false);
    vi.advanceTimersByTime(50_000);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('refreshing → stopped on a 2xx without Session-Expires (§9: no expiry)', () => {
    const { t, expire } = refreshing();
    expect(t.refreshAnswered(200, undefined, undefined)).toBe('stopped');
    vi.advanceTimersByTime(600_000);
    expect(expire).not.toHaveBeenCalled();
  });

  it('491 retries after 2.1-4 s (RFC 3261 §14.1); 422 retries at once with the larger Min-SE (§7.4)', () => {
    const { t, refresh } = refreshing();
    expect(t.refreshAnswered(491, undefined, undefined)).toBe('retry-later');
    vi.advanceTimersByTime(3049);
    expect(refresh).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(refresh).toHaveBeenCalledTimes(2);
    expect(t.refreshAnswered(422, undefined, 300)).toBe('retry-now');
    expect(t.interval).toBe(300);
    expect(t.state).toBe('refreshing');
    // a 422 whose Min-SE is not larger cannot be satisfied: the session ends
    expect(t.refreshAnswered(422, undefined, 300)).toBe('expired');
    expect(t.state).toBe('stopped');
  });

  it('any other failure ends the session; start(0) stops', () => {
    const { t, expire } = timer();
    t.start(90, true);
    expect(t.refreshAnswered(408, undefined, undefined)).toBe('expired');
    expect(t.state).toBe('stopped');
    t.start(0, true);
    expect(t.state).toBe('stopped');
    vi.advanceTimersByTime(600_000);
    expect(expire).not.toHaveBeenCalled();
  });
});

describe('session timer negotiation (RFC 4028 §8.1, §9, §7.2)', () => {
  it('refuses an interval below Min-SE with 422 + Min-SE; an initial INVITE without timer support is let through', () => {
    const refresh = request('UPDATE', 'Session-Expires: 30\r\n');
    expect(tooShortSession(refresh, 90, false)?.status).toBe(422);
    expect(tooShortSession(refresh, 90, false)?.getHeader('Min-SE')).toBe('90');
    expect(tooShortSession(request('INVITE', 'Session-Expires: 30\r\n'), 90, true)).toBeUndefined();
    expect(
      tooShortSession(request('INVITE', 'Session-Expires: 30\r\nSupported: timer\r\n'), 90, true)?.status,
    ).toBe(422);
    expect(tooShortSession(request('INVITE', 'Session-Expires: 1800\r\n'), 90, false)).toBeUndefined();
  });

  it('answers a timer request with the larger interval, the named refresher and Require: timer for uac', () => {
    const invite = request(
      'INVITE',
      'Session-Expires: 100;refresher=uac\r\nMin-SE: 120\r\nSupported: timer\r\n',
    );
    const ok = createResponse(invite, 200);
    expect(answerSessionTimer(invite, ok, 90)).toEqual({ interval: 120, weRefresh: false });
    expect(ok.getHeader('Session-Expires')).toBe('120;refresher=uac');
    expect(ok.require).toContain('timer');
    const uas = request('INVITE', 'Session-Expires: 600;refresher=uas\r\nSupported: timer\r\n');
    expect(answerSessionTimer(uas, createResponse(uas, 200), 90)).toEqual({ interval: 600, weRefresh: true });
  });

  it("keeps the app's own Session-Expires (raised to Min-SE); no timer without Supported: timer", () => {
    const invite = request('INVITE', 'Session-Expires: 600\r\n');
    const ok = createResponse(invite, 200, { headers: [['Session-Expires', '60;refresher=uas']] });
    expect(answerSessionTimer(invite, ok, 90)).toEqual({ interval: 90, weRefresh: true });
    expect(answerSessionTimer(invite, createResponse(invite, 200), 90)).toBeUndefined();
  });

  it('as UAC: refresher=uac or none in the 2xx means we refresh (§7.2)', () => {
    const invite = request('INVITE');
    const withSe = (v: string) => createResponse(invite, 200, { headers: [['Session-Expires', v]] });
    expect(acceptedSessionTimer(withSe('300'))).toEqual({ interval: 300, weRefresh: true });
    expect(acceptedSessionTimer(withSe('300;refresher=uas'))).toEqual({ interval: 300, weRefresh: false });
    expect(acceptedSessionTimer(createResponse(invite, 200))).toBeUndefined();
  });
});
