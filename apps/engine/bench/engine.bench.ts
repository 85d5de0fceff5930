import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { startEngine } from '../src/engine.ts';

/**
 * OPTIONS and REGISTER transactions per second through the engine and a trivial drachtio-srf app that
 * answers 200, with sipp as the load generator (UDP, loopback). Bounded: a fixed number of transactions per
 * run and a run-time cap. Prints one JSON line per scenario. Usage: pnpm --filter @switchboard/engine bench
 * [calls=20000] [rate=5000]
 */

const calls = Number(process.argv[2] ?? 20_000);
const rate = Number(process.argv[3] ?? 5_000);
const scenarioDir = fileURLToPath(new URL('../test/sipp/', import.meta.url));
const require = createRequire(import.meta.url);
const Srf = require('drachtio-srf');

interface SrfLike {
  on(event: string, fn: (...args: unknown[]) => void): void;
  connect(opts: object): void;
  disconnect(): void;
  options(fn: (req: unknown, res: { send(status: number): void }) => void): void;
  register(fn: (req: unknown, res: { send(status: number, opts?: object): void }) => void): void;
}

async function main(): Promise<void> {
  const secret = 'bench-secret-1234';
  const engine = await startEngine(
    {
      sipListen: [{ transport: 'udp', host: '127.0.0.1', port: 16990 }],
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: secret,
      answerOptions: false,
    },
    { logger: pino({ level: 'warn' }) },
  );
  const srf: SrfLike = new Srf();
  let handled = 0;
  srf.options((_req, res) => {
    handled++;
    res.send(200);
  });
  srf.register((_req, res) => {
    handled++;
    res.send(200, { headers: { Expires: '60' } });
  });
  await new Promise<void>((resolve) => {
    srf.on('connect', () => resolve());
    srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret });
  });
  // Warm-up (JIT, buffers): not reported.
  await runSipp('uac-options.xml', engine.listeners[0]!.port, 500, 100);
  const results = [];
  for (const scenario of ['uac-options.xml', 'uac-register.xml']) {
    handled = 0;
    results.push({
      ...(await runSipp(scenario, engine.listeners[0]!.port, calls, rate)),
      reachedApp: handled,
    });
  }
  srf.disconnect();
  await engine.close();
  for (const r of results) console.log(JSON.stringify(r));
}

function runSipp(scenario: string, port: number, calls: number, rate: number): Promise<object> {
  const started = process.hrtime.bigint();
  const args = [
    '-sf',
    join(scenarioDir, scenario),
    '-i',
    '127.0.0.1',
    '-p',
    '16991',
    '-ci',
    '127.0.0.1',
    '-nostdin',
    '-m',
    String(calls),
    '-r',
    String(rate),
    '-l',
    '2000',
    '-timeout',
    '120s',
    '-t',
    'u1',
    '-buff_size',
    '4194304',
    '-recv_timeout',
    '10000',
    ...(process.env.BENCH_ERRORS ? ['-trace_err', '-error_file', process.env.BENCH_ERRORS] : []),
    `127.0.0.1:${port}`,
  ];
  return new Promise((resolve) => {
    const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-8000);
    });
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const ok = Number(/Successful call\s+\|\s+\d+\s+\|\s+(\d+)/.exec(out)?.[1] ?? Number.NaN);
      const failed = Number(/Failed call\s+\|\s+\d+\s+\|\s+(\d+)/.exec(out)?.[1] ?? Number.NaN);
      resolve({
        scenario,
        calls,
        rate,
        exitCode: code,
        successful: ok,
        failed,
        seconds: +seconds.toFixed(2),
        perSecond: Math.round(ok / seconds),
      });
    });
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
