#!/usr/bin/env node
// Adds up the JSON reports that every package's vitest run leaves in .test-results/ and prints the
// closing line CI reads: "N passed, N failed, N skipped".
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testedPackages } from './tested-packages.mjs';

const totals = { passed: 0, failed: 0, skipped: 0 };
const missing = [];
const failures = [];
/** The first lines of each failure's message: a flaky test in CI leaves its evidence in the tail of the log. */
const details = [];
const DETAIL_LINES = 40;
const DETAILED_FAILURES = 5;

for (const { dir, path } of testedPackages()) {
  const report = join(dir, '.test-results', 'vitest.json');
  if (!existsSync(report)) {
    missing.push(path);
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
    const file = suite.name ? suite.name.slice(dir.length + 1) : '?';
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) {
      failures.push(`${path} ${file}: the file failed to load`);
    }
    for (const test of suite.assertionResults ?? []) {
      if (test.status !== 'failed') continue;
      const lines = String(test.failureMessages?.[0] ?? '').split('\n');
      failures.push(`${path} ${file} > ${test.fullName}: ${(lines[0] ?? '').slice(0, 200)}`);
      if (details.length < DETAILED_FAILURES && lines.length > 1) {
        details.push([
          `${path} ${file} > ${test.fullName}:`,
          ...lines.slice(0, DETAIL_LINES).map((l) => `  | ${l.slice(0, 300)}`),
        ]);
      }
    }
  }
}
// Name every failed test, so a red run says what to look at without the full log.
for (const lines of details) console.log(lines.join('\n'));
for (const f of failures) console.log(`failed: ${f}`);
// A package whose tests never reported (crashed, or not run) counts as a failure, never as silence.
for (const m of missing) console.log(`no test report from ${m}`);
totals.failed += missing.length;
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = totals.failed > 0 ? 1 : 0;
