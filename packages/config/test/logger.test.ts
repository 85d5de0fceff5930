import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';

function sink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

describe('createLogger', () => {
  it('writes JSON lines with each key once when children bind it again', () => {
    const { stream, lines } = sink();
    const root = createLogger({ app: 'switchboard', level: 'info', pretty: false, destination: stream });
    const transport = root.child({ component: 'engine' }).child({ component: 'sip-transport', port: 5060 });
    transport.info({ peer: '192.0.2.1' }, 'listening');
    root
      .child({ component: 'sip-core' })
      .child({ app: 'sip-core', node: 'a' })
      .child({ component: 'calls' })
      .info('x');
    expect(lines[0]!.match(/"component"/g)).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      app: 'switchboard',
      component: 'engine/sip-transport',
      port: 5060,
      peer: '192.0.2.1',
      msg: 'listening',
    });
    expect(lines[1]!.match(/"app"/g)).toHaveLength(1);
    expect(lines[1]!.match(/"component"/g)).toHaveLength(1);
    expect(JSON.parse(lines[1]!)).toMatchObject({ app: 'sip-core', node: 'a', component: 'sip-core/calls' });
  });

  it('keeps a child without repeated keys as pino wrote it', () => {
    const { stream, lines } = sink();
    const root = createLogger({ app: 'engine', level: 'info', pretty: false, destination: stream });
    root.child({ component: 'bridge', nested: { a: [1, ',"x":2'] } }).warn('w');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      app: 'engine',
      component: 'bridge',
      nested: { a: [1, ',"x":2'] },
    });
  });

  it('writes readable lines with ISO times and app/component in pretty mode', () => {
    const { stream, lines } = sink();
    const root = createLogger({ app: 'switchboard', level: 'info', pretty: true, destination: stream });
    root.child({ component: 'engine' }).info({ port: 5060 }, 'SIP engine listening');
    expect(lines[0]).toMatch(
      /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] INFO.*switchboard\/engine: SIP engine listening$/,
    );
    expect(lines.join('\n')).toContain('port: 5060');
    expect(lines[0]!.startsWith('{')).toBe(false);
  });
});
