import { loadavg } from 'node:os';
import { parseMessage } from '../src/index.ts';
import { INVITE, REGISTER } from '../test/support/samples.ts';

/**
 * Parse + serialise throughput of typical messages on one core. Each sample runs a fixed number of
 * iterations after a warm-up; the median of the samples is reported as messages per second of CPU time
 * consumed by this process (so that other load on a shared machine does not distort the figure), with
 * the wall-clock rate alongside.
 */
const SAMPLES = 11;
const ITERATIONS = 20_000;

function scenario(text: string, touchTyped: boolean): () => void {
  const input = Buffer.from(text);
  return (): void => {
    const m = parseMessage(input);
    if (touchTyped) {
      void m.topVia?.branch;
      void m.from.tag;
      void m.to.tag;
    }
    m.toBuffer();
  };
}

const SCENARIOS: Array<[name: string, text: string, touchTyped: boolean]> = [
  ['REGISTER parse+serialize', REGISTER, false],
  ['INVITE parse+serialize', INVITE, false],
  ['REGISTER parse+typed+serialize', REGISTER, true],
  ['INVITE parse+typed+serialize', INVITE, true],
];

/**
 * Warm-up of every scenario, interleaved, before any measurement: the optimising compiler then sees
 * both message shapes before the first sample, as a server handling mixed traffic does. Warming up one
 * scenario at a time made the first samples of the next one pay for de- and re-optimisation.
 */
function warmUp(): void {
  const all = SCENARIOS.map(([, text, typed]) => scenario(text, typed));
  for (let i = 0; i < 10_000; i++) for (const once of all) once();
}

function run(name: string, text: string, touchTyped: boolean): void {
  const bytes = Buffer.byteLength(text);
  const once = scenario(text, touchTyped);
  const cpuRates: number[] = [];
  const wallRates: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const wallStart = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < ITERATIONS; i++) once();
    const cpu = process.cpuUsage(cpuStart);
    const wallNs = Number(process.hrtime.bigint() - wallStart);
    cpuRates.push((ITERATIONS * 1e6) / (cpu.user + cpu.system));
    wallRates.push((ITERATIONS * 1e9) / wallNs);
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const best = Math.max(...cpuRates);
  console.log(
    `${name.padEnd(32)} ${fmt(median(cpuRates)).padStart(9)} msg/s per CPU-second (best ${fmt(best)})  ${fmt(median(wallRates)).padStart(9)} msg/s wall  (${bytes} bytes)`,
  );
}

/**
 * Calibration: JSON.parse of a document of similar size, measured the same way. On a shared machine the
 * absolute figures move with the load; the ratio to JSON.parse moves much less.
 */
function calibrate(): void {
  const doc = JSON.stringify({
    items: Array.from({ length: 30 }, (_, i) => ({ id: i, name: `item-${i}`, ok: true })),
  });
  for (let i = 0; i < 5_000; i++) JSON.parse(doc);
  const rates: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < ITERATIONS; i++) JSON.parse(doc);
    const cpu = process.cpuUsage(cpuStart);
    rates.push((ITERATIONS * 1e6) / (cpu.user + cpu.system));
  }
  rates.sort((a, b) => a - b);
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  console.log(
    `${'calibration: JSON.parse'.padEnd(32)} ${fmt(rates[Math.floor(SAMPLES / 2)] as number).padStart(9)} docs/s per CPU-second (best ${fmt(rates[SAMPLES - 1] as number)}, ${doc.length} bytes)`,
  );
}

console.log(
  `node ${process.version}, ${SAMPLES} samples x ${ITERATIONS} iterations, median; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
calibrate();
warmUp();
for (const [name, text, typed] of SCENARIOS) run(name, text, typed);
