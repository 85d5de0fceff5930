#!/usr/bin/env node
// Adds up the JSON reports that every package's vitest run leaves in .test-results/ and prints the
// closing line CI reads: "N passed, N failed, N skipped".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const totals = { passed: 0, failed: 0, skipped: 0 };
const missing = [];
const failures = [];

for (const group of ['apps', 'packages']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const pkgJson = join(dir, name, 'package.json');
    if (!existsSync(pkgJson)) continue;
    const pkg = JSON.parse(readFileSync(pkgJson, 'utf8'));
    if (!pkg.scripts?.test) continue;
    const report = join(dir, name, '.test-results', 'vitest.json');
    if (!existsSync(report)) {
      missing.push(`${group}/${name}`);
      continue;
    }
    const r = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += r.numPassedTests ?? 0;
    // A suite that failed to load has no test results of its own: count it as one failure.
    const brokenSuites = (r.testResults ?? []).filter(
      (s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0,
    ).length;
    totals.failed += (r.numFailedTests ?? 0) + brokenSuites;
    totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    for (const suite of r.testResults ?? []) {
      const file = suite.name ? suite.name.slice(join(dir, name).length + 1) : '?';
      if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) {
        failures.push(`${group}/${name} ${file}: the file failed to load`);
      }
      for (const test of suite.assertionResults ?? []) {
        if (test.status !== 'failed') continue;
        const reason = String(test.failureMessages?.[0] ?? '')
          .split('\n')[0]
          .slice(0, 200);
        failures.push(`${group}/${name} ${file} > ${test.fullName}: ${reason}`);
      }
    }
  }
}
// Name every failed test, so a red run says what to look at without the full log.
for (const f of failures) console.log(`failed: ${f}`);
// A package whose tests never reported (crashed, or not run) counts as a failure, never as silence.
for (const m of missing) console.log(`no test report from ${m}`);
totals.failed += missing.length;
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = totals.failed > 0 ? 1 : 0;
