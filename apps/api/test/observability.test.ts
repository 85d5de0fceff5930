import { Writable } from 'node:stream';
import { counter, createMetricsRegistry } from '@switchboard/metrics';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import type { LadderMessage } from '../src/types.ts';
import { createWorld, type World } from './support/world.ts';

/** GET /metrics (loopback or operator) and the call ladder from the engine's capture (operator only). */

const registry = createMetricsRegistry();
counter(registry, 'switchboard_call_attempts_total', 'attempts', ['direction']).inc({
  direction: 'internal',
});

function captured(callId: string, seq: number, startLine: string): LadderMessage {
  return {
    seq,
    at: new Date(1_700_000_000_000 + seq).toISOString(),
    direction: seq % 2 ? 'in' : 'out',
    transport: 'udp',
    source: '127.0.0.1:5070',
    destination: '127.0.0.1:5060',
    callId,
    startLine,
    message: `${startLine}\r\nCall-ID: ${callId}\r\n\r\n`,
  };
}
const CAPTURE = [
  captured('a-leg@phone', 1, 'INVITE sip:bob@example.test SIP/2.0'),
  captured('b-leg@switchboard', 2, 'INVITE sip:bob@127.0.0.1:5080 SIP/2.0'),
  captured('b-leg@switchboard', 3, 'SIP/2.0 200 OK'),
  captured('a-leg@phone', 4, 'SIP/2.0 200 OK'),
  captured('unrelated@elsewhere', 5, 'BYE sip:x@y SIP/2.0'),
];

let world: World;
beforeAll(async () => {
  world = await createWorld('observability', {
    metrics: registry,
    callLadder: (ids) => CAPTURE.filter((m) => ids.includes(m.callId)),
  });
  await world.prisma.cdr.create({
    data: {
      callId: 'a-leg@phone',
      aLegId: 'a-leg@phone',
      bLegId: 'b-leg@switchboard',
      direction: 'internal',
      callerDialled: 'alice',
      calleeDialled: 'bob',
      startedAt: new Date(),
      endedAt: new Date(),
      disposition: 'answered',
      sipCode: 200,
    },
  });
});
afterAll(async () => {
  await world?.close();
});

describe('GET /metrics', () => {
  it('serves the process registry to a loopback scraper without a credential', async () => {
    const res = await world.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('switchboard_call_attempts_total{direction="internal"} 1');
    expect(res.body).toContain('nodejs_eventloop_lag_seconds');
  });

  it('asks a remote scraper for an operator credential', async () => {
    const remote = { method: 'GET' as const, url: '/metrics', remoteAddress: '192.0.2.50' };
    expect((await world.app.inject(remote)).statusCode).toBe(401);
    const asCustomer = await world.app.inject({
      ...remote,
      headers: { authorization: `Bearer ${world.tokens.customerA}` },
    });
    expect(asCustomer.statusCode).toBe(403);
    const asOperator = await world.app.inject({
      ...remote,
      headers: { authorization: `Bearer ${world.tokens.operator}` },
    });
    expect(asOperator.statusCode).toBe(200);
    expect(asOperator.body).toContain('switchboard_call_attempts_total');
  });
});

describe('GET /api/v1/calls/{callId}/ladder', () => {
  it('joins both legs of the call through its CDR, in capture order', async () => {
    for (const id of ['a-leg@phone', 'b-leg@switchboard']) {
      const res = await world.request('operator', 'GET', `/api/v1/calls/${encodeURIComponent(id)}/ladder`);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { legs: string[]; messages: LadderMessage[] };
      expect(body.legs.sort()).toEqual(['a-leg@phone', 'b-leg@switchboard']);
      expect(body.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    }
  });

  it('is for operators only and answers 404 for a call it has no capture of', async () => {
    const url = `/api/v1/calls/${encodeURIComponent('a-leg@phone')}/ladder`;
    expect((await world.request('customerA', 'GET', url)).statusCode).toBe(403);
    expect((await world.request('resellerA', 'GET', url)).statusCode).toBe(403);
    const missing = await world.request('operator', 'GET', '/api/v1/calls/never-seen/ladder');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
  });
});

describe('request logging', () => {
  it('logs the polled reads at debug and changes at info, one event per request', async () => {
    const events: Array<{ level: number; msg: string; method?: string; statusCode?: number }> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line) events.push(JSON.parse(line));
        done();
      },
    });
    const app = await buildApp({
      prisma: world.prisma,
      logger: pino({ level: 'debug' }, sink),
      health: async () => ({ database: { status: 'up' } }),
    });
    try {
      await app.inject({ method: 'GET', url: '/api/health' });
      await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'nobody@test.example', password: 'wrong password here' },
      });
      const requests = events.filter((e) => e.msg === 'request completed');
      expect(requests.map((e) => [e.method, e.level])).toEqual([
        ['GET', 20],
        ['POST', 30],
      ]);
      expect(events.filter((e) => e.msg === 'incoming request')).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
