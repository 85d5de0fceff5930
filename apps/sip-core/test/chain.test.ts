import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { chain } from '../src/chain.ts';
import type { Middleware } from '../src/sip/request.ts';
import { FakeRequest, FakeResponse } from './support/fakes.ts';

const log = pino({ level: 'silent' });

function request(): FakeRequest {
  return new FakeRequest('OPTIONS', 'sip:example.test', { 'Call-ID': 'chain-1' });
}

describe('chain', () => {
  it('runs the stages in order; a second next() from one stage is ignored', () => {
    const ran: string[] = [];
    const twice: Middleware = (_req, _res, next) => {
      ran.push('a');
      next();
      next();
    };
    const b: Middleware = (_req, _res, next) => {
      ran.push('b');
      next();
    };
    const c: Middleware = (_req, res) => {
      ran.push('c');
      res.send(200);
    };
    const res = new FakeResponse();
    chain([twice, b, c], log)(request(), res);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(res.sent.map((s) => s.status)).toEqual([200]);
  });

  it('gives a request the last stage lets through to `passed`, and an answered one never', () => {
    const through: Middleware = (_req, _res, next) => next();
    const answering: Middleware = (_req, res) => res.send(407);
    const passed: FakeResponse[] = [];
    const res = new FakeResponse();
    chain([through, through], log, (r: FakeResponse) => passed.push(r))(request(), res);
    expect(passed).toEqual([res]);
    expect(res.sent).toEqual([]);
    chain([through, answering], log, (r: FakeResponse) => passed.push(r))(request(), new FakeResponse());
    expect(passed).toHaveLength(1);
  });

  it('answers 500 once for a throwing stage, an error passed to next and a rejected stage', async () => {
    const throwing: Middleware = () => {
      throw new Error('boom');
    };
    const erring: Middleware = (_req, _res, next) => next(new Error('bad'));
    const rejecting: Middleware = async () => {
      throw new Error('later');
    };
    for (const stage of [throwing, erring, rejecting]) {
      const res = new FakeResponse();
      chain([stage, (_req, r) => r.send(200)], log)(request(), res);
      await new Promise((resolve) => setImmediate(resolve));
      expect(res.sent.map((s) => s.status)).toEqual([500]);
    }
  });

  it('stops at the first answer: later sends and stages do nothing', () => {
    const res = new FakeResponse();
    const later: string[] = [];
    chain(
      [
        (_req, r, next) => {
          r.send(486);
          r.send(200);
          next();
        },
        () => {
          later.push('ran');
        },
      ],
      log,
    )(request(), res);
    expect(res.sent.map((s) => s.status)).toEqual([486]);
    expect(later).toEqual([]);
  });
});
