import { createSocket } from 'node:dgram';
import { Writable } from 'node:stream';
import { optionsRequest } from '@switchboard/testkit';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startEngine } from '../src/engine.ts';
import { SECRET, waitFor } from './helpers.ts';

/** The optional SIP message trace (SIP_TRACE=1 / sipTrace): every message in and out, one log event each. */

describe('SIP trace', () => {
  it('logs each message received and sent with its direction and peer', async () => {
    const lines: Array<{ component?: string; dir?: string; msg?: string }> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const engine = await startEngine(
      {
        sipListen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
        engineAdmin: { host: '127.0.0.1', port: 0 },
        engineSecret: SECRET,
        sipTrace: true,
      },
      { logger: pino({ level: 'info' }, sink) },
    );
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
    try {
      const request = optionsRequest({
        uri: 'sip:service@127.0.0.1',
        via: `SIP/2.0/UDP 127.0.0.1:${udp.address().port};branch=z9hG4bKtrace1`,
        from: '<sip:probe@127.0.0.1>;tag=t1',
        to: '<sip:service@127.0.0.1>',
        callId: 'trace-1',
      });
      udp.send(request, engine.listeners[0]!.port, '127.0.0.1');
      const trace = () => lines.filter((l) => l.component === 'sip-trace');
      await waitFor(() => trace().some((l) => l.dir === 'send'), 'the traced answer');
      expect(trace().find((l) => l.dir === 'recv')!.msg).toContain('OPTIONS sip:service@127.0.0.1 SIP/2.0');
      expect(trace().find((l) => l.dir === 'send')!.msg).toContain('SIP/2.0 200 OK');
    } finally {
      udp.close();
      await engine.close();
    }
  });
});
