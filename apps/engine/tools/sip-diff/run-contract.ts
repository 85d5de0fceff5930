import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptureSet } from './capture.ts';
import { type ScenarioWindow, splitCapture } from './scenarios.ts';
import { captureLoopback } from './tcpdump.ts';

/**
 * The engine contract tests (drachtio-srf apps with sipp far ends) against one server, captured. vitest runs
 * the test files with the switch of test/differential/server-under-test.ts; every SIP port comes from
 * `ports`, which is also the capture filter.
 */

const ENGINE_DIR = fileURLToPath(new URL('../../', import.meta.url));

export const CONTRACT_FILES = ['test/contract-sipp.test.ts', 'test/proxy-sipp.test.ts'];

export interface ContractRunOptions {
  server: 'engine' | 'drachtio-server';
  ports: { min: number; max: number };
  log: (line: string) => void;
}

export async function runContract(
  options: ContractRunOptions,
): Promise<CaptureSet & { failed: string[]; skipped: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sip-diff-contract-'));
  const markers = join(dir, 'markers.jsonl');
  const capture = await captureLoopback(`portrange ${options.ports.min}-${options.ports.max}`);
  const env = {
    ...process.env,
    ENGINE_TEST_SERVER: options.server,
    SIP_DIFF_MARKERS: markers,
    SIP_DIFF_PORTS: `${options.ports.min}-${options.ports.max}`,
  };
  const output = await new Promise<string>((resolve) => {
    const child = spawn('pnpm', ['exec', 'vitest', 'run', ...CONTRACT_FILES], {
      cwd: ENGINE_DIR,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-50_000);
    });
    child.stderr.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-50_000);
    });
    child.on('close', () => resolve(out));
  });
  const messages = await capture.stop();
  const entries = readFileSync(markers, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map(
      (l) =>
        JSON.parse(l) as {
          test: string;
          suite: string;
          start: number;
          end: number;
          endpoints: string[];
          state: string;
        },
    );
  rmSync(dir, { recursive: true, force: true });
  // a test that needs an engine-only option starts the engine itself, whatever the run: not compared
  const skipped = entries.filter((e) => e.endpoints.length === 0).map((e) => `${e.suite} > ${e.test}`);
  const compared = entries.filter((e) => e.endpoints.length > 0);
  const failed = compared.filter((e) => e.state !== 'pass').map((e) => `${e.suite} > ${e.test}`);
  options.log(
    `contract tests on ${options.server}: ${compared.length} compared, ${failed.length} failed, ${skipped.length} engine-only`,
  );
  if (entries.length === 0) throw new Error(`no contract test ran:\n${output}`);
  const windows: ScenarioWindow[] = compared.map((e) => ({
    scenario: `contract: ${e.suite} > ${e.test}`,
    start: e.start,
    end: e.end,
    endpoints: e.endpoints,
  }));
  return { server: options.server, scenarios: splitCapture(messages, windows), failed, skipped };
}
