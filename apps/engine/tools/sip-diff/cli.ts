import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type CaptureSet, isCaptureSet } from './capture.ts';
import { diffRuns } from './diff.ts';
import { EXPLANATIONS, REFERENCE_FAILURES } from './explanations.ts';
import { normaliseScenario } from './normalise.ts';
import { renderReport } from './report.ts';

/**
 * sip-diff: runs the engine contract tests and drachtio-srf's upstream suite against the engine and against
 * drachtio-server, captures both on the wire, and writes the differences as a markdown report.
 *
 *   sip-diff run    [--suites contract,upstream] [--captures DIR] [--report FILE]   (needs DRACHTIO_SERVER_BIN)
 *   sip-diff report --engine FILE --reference FILE [--report FILE]                  (from saved captures)
 *
 * Exits 1 when a difference has no explanation (explanations.ts) or a test failed on one server only.
 */

const COMMAND = 'pnpm --filter @switchboard/engine sip-diff run';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    suites: { type: 'string', default: 'contract,upstream' },
    captures: { type: 'string' },
    report: { type: 'string', default: '../../docs/engine-differential.md' },
    engine: { type: 'string' },
    reference: { type: 'string' },
    'contract-ports': { type: 'string', default: '23000-23999' },
    'upstream-sip-port': { type: 'string', default: '29560' },
    'upstream-uac-ports': { type: 'string', default: '33100' },
  },
});

const log = (line: string) => process.stderr.write(`${line}\n`);

function referenceName(bin: string): string {
  let version = 'drachtio-server';
  try {
    version =
      execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim().split('\n')[0] ??
      version;
  } catch (error) {
    version = (error as { stdout?: string }).stdout?.trim() || version;
  }
  const commit = process.env.DRACHTIO_SERVER_COMMIT;
  return commit ? `drachtio-server ${version} (commit ${commit})` : `drachtio-server ${version}`;
}

async function runOne(server: 'engine' | 'drachtio-server', suites: string[], bin: string) {
  const failed: string[] = [];
  const notCompared: string[] = [];
  const set: CaptureSet = { server, scenarios: [], suites, failed, notCompared };
  if (suites.includes('contract')) {
    const { runContract } = await import('./run-contract.ts');
    const [min, max] = (values['contract-ports'] as string).split('-').map(Number) as [number, number];
    const run = await runContract({ server, ports: { min, max }, log });
    set.scenarios.push(...run.scenarios);
    failed.push(...run.failed);
    notCompared.push(...run.skipped);
  }
  if (suites.includes('upstream')) {
    const { runUpstream } = await import('./run-upstream.ts');
    const run = await runUpstream({
      server,
      sipPort: Number(values['upstream-sip-port']),
      uacPortBase: Number(values['upstream-uac-ports']),
      referenceBin: bin,
      log,
    });
    set.scenarios.push(...run.scenarios);
    failed.push(...run.failed);
  }
  return { set, failed };
}

/** The repository's formatter aligns markdown tables; a report written as it would leave it stays lint-clean. */
function formatMarkdown(path: string): void {
  try {
    execFileSync('pnpm', ['exec', 'biome', 'format', '--write', path], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    log(`could not format ${path} with biome; run pnpm lint --write`);
  }
}

function readSet(path: string): CaptureSet {
  const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isCaptureSet(value)) throw new Error(`${path} is not a capture set`);
  return value;
}

function writeReport(engine: CaptureSet, reference: CaptureSet, name: string, suites: string[]): number {
  const e = engine.scenarios.map(normaliseScenario);
  const r = reference.scenarios.map(normaliseScenario);
  const differences = diffRuns(e, r);
  const report = renderReport({
    engine: e,
    reference: r,
    differences,
    explanations: EXPLANATIONS,
    referenceName: name,
    date: new Date().toISOString().slice(0, 10),
    command: COMMAND,
    suites,
  });
  const path = resolve(values.report as string);
  writeFileSync(path, report.markdown);
  formatMarkdown(path);
  log(`${differences.length} differences, ${report.unexplained.length} unexplained -> ${values.report}`);
  return report.unexplained.length;
}

async function main(): Promise<number> {
  const command = positionals[0];
  if (command === 'report') {
    if (!values.engine || !values.reference) throw new Error('report needs --engine and --reference');
    const engine = readSet(values.engine);
    const reference = readSet(values.reference);
    const suites = describeSuites(reference, engine.failed ?? []);
    return writeReport(engine, reference, reference.server, suites) > 0 ? 1 : 0;
  }
  if (command !== 'run') throw new Error('usage: sip-diff run | sip-diff report (see cli.ts)');
  const bin = process.env.DRACHTIO_SERVER_BIN;
  if (!bin) throw new Error('set DRACHTIO_SERVER_BIN to the drachtio-server binary');
  const suites = (values.suites as string).split(',');
  const name = referenceName(bin);
  const engine = await runOne('engine', suites, bin);
  const reference = await runOne('drachtio-server', suites, bin);
  reference.set.server = name;
  if (values.captures) {
    mkdirSync(values.captures, { recursive: true });
    writeFileSync(join(values.captures, 'engine.json'), JSON.stringify(engine.set));
    writeFileSync(join(values.captures, 'reference.json'), JSON.stringify(reference.set));
  }
  const descriptions = describeSuites(reference.set, engine.failed);
  const unexplained = writeReport(engine.set, reference.set, name, descriptions);
  const onlyOne = [
    ...engine.failed.filter((f) => !reference.failed.includes(f)),
    ...reference.failed.filter((f) => !engine.failed.includes(f) && !(f in REFERENCE_FAILURES)),
  ];
  for (const f of onlyOne) log(`failed on one server only: ${f}`);
  return unexplained > 0 || onlyOne.length > 0 ? 1 : 0;
}

function describeSuites(reference: CaptureSet, engineFailed: string[]): string[] {
  const suites = reference.suites ?? [];
  const referenceFailed = reference.failed ?? [];
  const lines: string[] = [];
  if (suites.includes('contract'))
    lines.push(
      'engine contract tests (`apps/engine/test/contract-sipp.test.ts` UDP and TCP, `proxy-sipp.test.ts`)',
    );
  if (suites.includes('upstream'))
    lines.push("drachtio-srf 5.0.29's own test suite (`apps/engine/test/upstream/`), UDP");
  if (reference.notCompared?.length)
    lines.push(`not compared, as they need an engine-only option: ${reference.notCompared.join('; ')}`);
  lines.push(`tests failing against the engine: ${engineFailed.length ? engineFailed.join('; ') : 'none'}`);
  const why = (f: string) => {
    const id = REFERENCE_FAILURES[f];
    return id ? `${f} (see [${id}](#${id}))` : f;
  };
  lines.push(
    `tests failing against the reference: ${referenceFailed.length ? referenceFailed.map(why).join('; ') : 'none'}`,
  );
  return lines;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(2);
  },
);
