import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_TIMERS,
  InviteClientTransaction,
  InviteServerTransaction,
  NonInviteClientTransaction,
  NonInviteServerTransaction,
} from '../src/transactions/index.ts';
import { ack, request, response } from './helpers/messages.ts';

const T1 = DEFAULT_TIMERS.t1;
const T2 = DEFAULT_TIMERS.t2;
const T4 = DEFAULT_TIMERS.t4;

/** Records what a transaction sends, with the fake clock time of each send. */
function recorder<M>() {
  const sent: Array<{ at: number; message: M }> = [];
  const start = Date.now();
  return {
    sent,
    times: () => sent.map((s) => s.at - start),
    send: (message: M) => {
      sent.push({ at: Date.now(), message });
      return Promise.resolve();
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('INVITE client transaction (RFC 3261 §17.1.1, RFC 6026)', () => {
  const make = (reliable = false) => {
    const rec = recorder<ReturnType<typeof request>>();
    const tx = new InviteClientTransaction({
      id: 'z9hG4bK-1',
      request: request('INVITE'),
      reliable,
      timers: DEFAULT_TIMERS,
      send: rec.send,
      buildAck: (_request, res) => ack(res),
    });
    return { tx, rec };
  };

  it('Timer A doubles without a cap and Timer B times out after 64*T1', async () => {
    const { tx, rec } = make();
    const failed = vi.fn();
    tx.on('failed', failed);
    tx.start();
    expect(tx.state).toBe('calling');
    await vi.advanceTimersByTimeAsync(64 * T1 - 1);
    // sends at 0, T1, 3T1, 7T1, 15T1, 31T1, 63T1
    expect(rec.times()).toEqual([0, T1, 3 * T1, 7 * T1, 15 * T1, 31 * T1, 63 * T1]);
    expect(failed).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(failed).toHaveBeenCalledWith('timeout');
    expect(tx.state).toBe('terminated');
  });

  it('Timer B hands the TU a synthesized 408 when asked to (§8.1.3.1)', async () => {
    const tx = new InviteClientTransaction({
      id: 'z9hG4bK-408',
      request: request('INVITE'),
      reliable: false,
      timers: DEFAULT_TIMERS,
      send: () => Promise.resolve(),
      buildAck: (_request, res) => ack(res),
      buildLocalResponse: (_request, status) => response(status),
    });
    const statuses: number[] = [];
    tx.on('response', (r) => statuses.push(r.status));
    tx.start();
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(statuses).toEqual([408]);
  });

  it('over a reliable transport sends once and still times out with Timer B', async () => {
    const { tx, rec } = make(true);
    const failed = vi.fn();
    tx.on('failed', failed);
    tx.start();
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(rec.sent).toHaveLength(1);
    expect(failed).toHaveBeenCalledWith('timeout');
  });

  it('a provisional response stops retransmissions and disarms Timer B', async () => {
    const { tx, rec } = make();
    const responses = vi.fn();
    tx.on('response', responses);
    tx.start();
    tx.receiveResponse(response(180));
    expect(tx.state).toBe('proceeding');
    expect(tx.hasTimer('A')).toBe(false);
    await vi.advanceTimersByTimeAsync(64 * T1 * 2);
    expect(rec.sent).toHaveLength(1);
    expect(tx.state).toBe('proceeding');
    expect(responses).toHaveBeenCalledTimes(1);
  });

  it('a non-2xx final goes to Completed, is ACKed, re-ACKed on retransmission, and Timer D ends it', async () => {
    const { tx, rec } = make();
    const responses = vi.fn();
    tx.on('response', responses);
    tx.start();
    const seenByTu: string[] = [];
    tx.on('response', () => seenByTu.push(tx.request.method));
    tx.receiveResponse(response(486));
    expect(tx.state).toBe('completed');
    expect(rec.sent.map((s) => s.message.method)).toEqual(['INVITE', 'ACK']);
    // The TU may read the request while it hears the final response; Timer D needs only the ACK.
    expect(seenByTu).toEqual(['INVITE']);
    expect(() => tx.request).toThrow(/released its request/);
    tx.receiveResponse(response(486));
    expect(rec.sent.map((s) => s.message.method)).toEqual(['INVITE', 'ACK', 'ACK']);
    expect(responses).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(DEFAULT_TIMERS.timerD - 1);
    expect(tx.state).toBe('completed');
    await vi.advanceTimersByTimeAsync(1);
    expect(tx.state).toBe('terminated');
  });

  it('Timer D is zero over a reliable transport', async () => {
    const { tx } = make(true);
    tx.start();
    tx.receiveResponse(response(503));
    await vi.advanceTimersByTimeAsync(0);
    expect(tx.state).toBe('terminated');
  });

  it('a 2xx goes to Accepted, passes 2xx retransmissions up, and Timer M ends it', async () => {
    const { tx, rec } = make();
    const responses = vi.fn();
    tx.on('response', responses);
    tx.start();
    tx.receiveResponse(response(200));
    expect(tx.state).toBe('accepted');
    tx.receiveResponse(response(200));
    expect(responses).toHaveBeenCalledTimes(2);
    expect(rec.sent).toHaveLength(1); // the TU ACKs a 2xx, not the transaction
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(tx.state).toBe('terminated');
  });

  it('reports a transport error and terminates', async () => {
    const failed = vi.fn();
    const tx = new InviteClientTransaction({
      id: 'x',
      request: request('INVITE'),
      reliable: false,
      timers: DEFAULT_TIMERS,
      send: () => Promise.reject(new Error('ECONNREFUSED')),
      buildAck: (_request, res) => ack(res),
    });
    tx.on('failed', failed);
    tx.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(failed).toHaveBeenCalledWith('transport-error', expect.any(Error));
    expect(tx.state).toBe('terminated');
  });
});

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  const make = (reliable = false) => {
    const rec = recorder<ReturnType<typeof request>>();
    const tx = new NonInviteClientTransaction({
      id: 'z9hG4bK-2',
      request: request('OPTIONS'),
      reliable,
      timers: DEFAULT_TIMERS,
      send: rec.send,
    });
    return { tx, rec };
  };

  it('Timer E doubles up to T2 and Timer F times out after 64*T1', async () => {
    const { tx, rec } = make();
    const failed = vi.fn();
    tx.on('failed', failed);
    tx.start();
    await vi.advanceTimersByTimeAsync(64 * T1 - 1);
    // 0, 500, 1500, 3500, 7500, then every 4000: 11500, 15500, ... < 32000
    const expected = [0, T1, 3 * T1, 7 * T1, 15 * T1];
    for (let t = 15 * T1 + T2; t < 64 * T1; t += T2) expected.push(t);
    expect(rec.times()).toEqual(expected);
    await vi.advanceTimersByTimeAsync(1);
    expect(failed).toHaveBeenCalledWith('timeout');
    expect(tx.state).toBe('terminated');
  });

  it('in Proceeding retransmits every T2', async () => {
    const { tx, rec } = make();
    tx.start();
    tx.receiveResponse(response(100));
    expect(tx.state).toBe('proceeding');
    await vi.advanceTimersByTimeAsync(T1); // pending Timer E fires at T1, then every T2
    await vi.advanceTimersByTimeAsync(2 * T2);
    expect(rec.times()).toEqual([0, T1, T1 + T2, T1 + 2 * T2]);
  });

  it('a final response completes; Timer K (T4) absorbs retransmissions', async () => {
    const { tx } = make();
    const responses = vi.fn();
    tx.on('response', responses);
    tx.start();
    expect(tx.request.method).toBe('OPTIONS');
    tx.receiveResponse(response(200));
    tx.receiveResponse(response(200));
    expect(responses).toHaveBeenCalledTimes(1);
    expect(tx.state).toBe('completed');
    // §17.1.2.2: Completed sends nothing, so the request is released for Timer K.
    expect(() => tx.request).toThrow(/released its request/);
    await vi.advanceTimersByTimeAsync(T4 - 1);
    expect(tx.state).toBe('completed');
    await vi.advanceTimersByTimeAsync(1);
    expect(tx.state).toBe('terminated');
  });

  it('reliable: no retransmissions, Timer K is zero', async () => {
    const { tx, rec } = make(true);
    tx.start();
    await vi.advanceTimersByTimeAsync(10 * T1);
    expect(rec.sent).toHaveLength(1);
    tx.receiveResponse(response(404));
    await vi.advanceTimersByTimeAsync(0);
    expect(tx.state).toBe('terminated');
  });
});

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026)', () => {
  const make = (reliable = false) => {
    const rec = recorder<ReturnType<typeof response>>();
    const tx = new InviteServerTransaction({
      id: 'z9hG4bK-3',
      request: request('INVITE'),
      reliable,
      timers: DEFAULT_TIMERS,
      send: rec.send,
      buildTrying: () => response(100),
    });
    return { tx, rec };
  };

  it('sends 100 Trying after 200 ms unless the TU answered, and resends the last provisional', async () => {
    const { tx, rec } = make();
    await vi.advanceTimersByTimeAsync(199);
    expect(rec.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.sent.map((s) => s.message.status)).toEqual([100]);
    tx.respond(response(180));
    tx.receiveRequest(request('INVITE'));
    expect(rec.sent.map((s) => s.message.status)).toEqual([100, 180, 180]);
  });

  it('with a delay of 0 the 100 goes out before any I/O, so a TU answering in under a millisecond cannot race it', async () => {
    const rec = recorder<ReturnType<typeof response>>();
    new InviteServerTransaction({
      id: 'z9hG4bK-now',
      request: request('INVITE'),
      reliable: false,
      timers: { ...DEFAULT_TIMERS, tryingDelay: 0 },
      send: rec.send,
      buildTrying: () => response(100),
    });
    expect(rec.sent).toHaveLength(0);
    await Promise.resolve();
    expect(rec.sent.map((s) => s.message.status)).toEqual([100]);
  });

  it('a provisional or 2xx within the delay is preceded by the 100 that was due; a refusal goes alone', async () => {
    for (const [status, expected] of [
      [183, [100, 183]],
      [200, [100, 200]],
      [407, [407]],
      [486, [486]],
    ] as const) {
      const { tx, rec } = make();
      tx.respond(response(status));
      await vi.advanceTimersByTimeAsync(1_000);
      expect(rec.sent.map((s) => s.message.status).slice(0, expected.length)).toEqual(expected);
      tx.receiveRequest(request('ACK'));
    }
  });

  it('a stateless final response goes once: no 100, no Timer G, the transaction ends at once', async () => {
    const { tx, rec } = make();
    const terminated = vi.fn();
    tx.on('terminated', terminated);
    tx.respondStateless(response(407));
    expect(tx.state).toBe('terminated');
    expect(terminated).toHaveBeenCalledTimes(1);
    expect(tx.hasTimer('G')).toBe(false);
    // A retransmitted INVITE or the ACK reaching this (ended) transaction draws nothing more.
    tx.receiveRequest(request('INVITE'));
    tx.receiveRequest(request('ACK'));
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(rec.sent.map((s) => s.message.status)).toEqual([407]);
    expect(() => tx.respondStateless(response(403))).toThrow();
  });

  it('non-2xx: Timer G retransmits doubling to T2 until Timer H fires', async () => {
    const { tx, rec } = make();
    const failed = vi.fn();
    tx.on('failed', failed);
    tx.respond(response(486));
    expect(tx.state).toBe('completed');
    await vi.advanceTimersByTimeAsync(64 * T1 - 1);
    const expected = [0, T1, 3 * T1, 7 * T1, 15 * T1];
    for (let t = 15 * T1 + T2; t < 64 * T1; t += T2) expected.push(t);
    expect(rec.times()).toEqual(expected);
    expect(failed).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(failed).toHaveBeenCalledWith('timeout');
    expect(tx.state).toBe('terminated');
  });

  it('ACK moves Completed -> Confirmed, stops G; Timer I (T4) ends it', async () => {
    const { tx, rec } = make();
    const acks = vi.fn();
    tx.on('ack', acks);
    tx.respond(response(404));
    tx.receiveRequest(request('INVITE'));
    expect(rec.sent).toHaveLength(2); // retransmitted INVITE gets the final again
    tx.receiveRequest(request('ACK'));
    expect(tx.state).toBe('confirmed');
    expect(acks).toHaveBeenCalledTimes(1);
    tx.receiveRequest(request('ACK'));
    expect(acks).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(T4 - 1);
    expect(rec.sent).toHaveLength(2);
    expect(tx.state).toBe('confirmed');
    await vi.advanceTimersByTimeAsync(1);
    expect(tx.state).toBe('terminated');
  });

  it('reliable: no Timer G, Timer I is zero', async () => {
    const { tx, rec } = make(true);
    tx.respond(response(404));
    expect(tx.hasTimer('G')).toBe(false);
    await vi.advanceTimersByTimeAsync(10 * T1);
    expect(rec.sent).toHaveLength(1);
    tx.receiveRequest(request('ACK'));
    await vi.advanceTimersByTimeAsync(0);
    expect(tx.state).toBe('terminated');
  });

  it('2xx: Accepted absorbs INVITE retransmissions, lets the TU resend 2xx, Timer L ends it', async () => {
    const { tx, rec } = make();
    const acks = vi.fn();
    tx.on('ack', acks);
    tx.respond(response(200));
    expect(tx.state).toBe('accepted');
    tx.receiveRequest(request('INVITE'));
    expect(rec.sent.map((s) => s.message.status)).toEqual([100, 200]);
    tx.respond(response(200));
    expect(rec.sent.map((s) => s.message.status)).toEqual([100, 200, 200]);
    tx.receiveRequest(request('ACK'));
    expect(acks).toHaveBeenCalledTimes(1);
    expect(() => tx.respond(response(486))).toThrow();
    await vi.advanceTimersByTimeAsync(64 * T1);
    expect(tx.state).toBe('terminated');
  });
});

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  const make = (reliable = false) => {
    const rec = recorder<ReturnType<typeof response>>();
    const tx = new NonInviteServerTransaction({
      id: 'z9hG4bK-4',
      request: request('OPTIONS'),
      reliable,
      timers: DEFAULT_TIMERS,
      send: rec.send,
    });
    return { tx, rec };
  };

  it('discards retransmissions in Trying, resends the provisional in Proceeding', () => {
    const { tx, rec } = make();
    tx.receiveRequest(request('OPTIONS'));
    expect(rec.sent).toHaveLength(0);
    tx.respond(response(100));
    expect(tx.state).toBe('proceeding');
    tx.receiveRequest(request('OPTIONS'));
    expect(rec.sent.map((s) => s.message.status)).toEqual([100, 100]);
  });

  it('resends the final response in Completed; Timer J (64*T1) ends it', async () => {
    const { tx, rec } = make();
    tx.respond(response(200));
    expect(tx.state).toBe('completed');
    tx.receiveRequest(request('OPTIONS'));
    expect(rec.sent.map((s) => s.message.status)).toEqual([200, 200]);
    expect(() => tx.respond(response(500))).toThrow();
    await vi.advanceTimersByTimeAsync(64 * T1 - 1);
    expect(tx.state).toBe('completed');
    await vi.advanceTimersByTimeAsync(1);
    expect(tx.state).toBe('terminated');
  });

  it('in Completed keeps the final response as sent and releases the request', () => {
    const { tx, rec } = make();
    const final = response(200);
    final.setHeader('X-Kept', 'yes');
    tx.respond(final);
    expect(() => tx.request).toThrow(/released its request/);
    expect(tx.requestToTag).toBeUndefined();
    tx.receiveRequest(request('OPTIONS'));
    const [first, again] = rec.sent.map((s) => s.message);
    // The retransmission is the same response, byte for byte, parsed back from what was sent.
    expect(again).not.toBe(first);
    expect(again!.toString()).toBe(first!.toString());
    expect(again!.getHeader('x-kept')).toBe('yes');
  });

  it('reliable: Timer J is zero', async () => {
    const { tx } = make(true);
    tx.respond(response(200));
    await vi.advanceTimersByTimeAsync(0);
    expect(tx.state).toBe('terminated');
  });

  it('a send failure is reported as a transport error', async () => {
    const failed = vi.fn();
    const tx = new NonInviteServerTransaction({
      id: 'y',
      request: request('OPTIONS'),
      reliable: true,
      timers: DEFAULT_TIMERS,
      send: () => Promise.reject(new Error('EPIPE')),
    });
    tx.on('failed', failed);
    tx.respond(response(200));
    await vi.advanceTimersByTimeAsync(0);
    expect(failed).toHaveBeenCalledWith('transport-error', expect.any(Error));
    expect(tx.state).toBe('terminated');
  });
});
