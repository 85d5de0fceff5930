#!/usr/bin/env node
// `pnpm test`: every package's test script, two at a time, longest first.
//
// Why not `turbo run test --concurrency=2`: turbo starts packages in an order of its own, so the
// longest suite (sip-core's scenarios, one file at a time against real peers) could start ten minutes
// late and finish alone on an idle second core. Here two lanes take packages from one queue sorted by
// how long each usually runs, so the long one starts at once and the others fill the second lane.
// Every package runs even when one fails; the exit code is non-zero if any did. Output lines carry the
// package's name, as turbo's did. `TEST_LANES` sets the number of lanes (default 2).
import { spawn } from 'node:child_process';
import { testedPackages } from './tested-packages.mjs';

// Rough seconds on a 2-core machine, for ordering only; a package missing here sorts by DEFAULT_SECONDS.
const USUAL_SECONDS = {
  '@switchboard/sip-core': 930,
  '@switchboard/web': 300,
  '@switchboard/api': 230,
  '@switchboard/engine': 145,
  '@switchboard/switchboard': 110,
  '@switchboard/db': 55,
  '@switchboard/sip': 45,
  '@switchboard/deploy-check': 25,
};
const DEFAULT_SECONDS = 30;

function queueByUsualDuration() {
  const found = testedPackages();
  const weight = (p) => USUAL_SECONDS[p.name] ?? DEFAULT_SECONDS;
  return found.sort((a, b) => weight(b) - weight(a) || a.name.localeCompare(b.name));
}

/** Writes a child's stream line by line, each line prefixed with the package's name. */
function relay(stream, prefix, out) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) out.write(`${prefix}${line}\n`);
  });
  stream.on('end', () => {
    if (rest) out.write(`${prefix}${rest}\n`);
  });
}

const running = new Set();

function runOne(pkg) {
  const prefix = `${pkg.name}:test: `;
  const started = Date.now();
  process.stdout.write(`${prefix}started\n`);
  return new Promise((resolve) => {
    // A process group of its own: stopping the run stops vitest and the peers it started, not only pnpm.
    const child = spawn('pnpm', ['run', 'test'], {
      cwd: pkg.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    relay(child.stdout, prefix, process.stdout);
    relay(child.stderr, prefix, process.stderr);
    const finish = (code) => {
      // 'error' (pnpm could not start) may be followed by 'close': one result per package.
      if (!running.delete(child)) return;
      const seconds = Math.round((Date.now() - started) / 1000);
      process.stdout.write(`${prefix}finished in ${seconds} s, exit ${code}\n`);
      resolve({ name: pkg.name, code, seconds });
    };
    child.on('error', () => finish(1));
    child.on('close', (code, signal) => finish(code ?? (signal ? 1 : 0)));
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of running) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // The group has already gone.
      }
    }
    process.exit(1);
  });
}

const queue = queueByUsualDuration();
const lanes = Math.max(1, Number(process.env.TEST_LANES) || 2);
const results = [];
async function lane() {
  for (let pkg = queue.shift(); pkg; pkg = queue.shift()) results.push(await runOne(pkg));
}
const started = Date.now();
await Promise.all(Array.from({ length: lanes }, lane));

console.log(`\ntests: ${results.length} packages in ${Math.round((Date.now() - started) / 1000)} s`);
for (const r of results) console.log(`  ${r.code === 0 ? 'ok    ' : 'FAILED'} ${r.name} (${r.seconds} s)`);
process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
