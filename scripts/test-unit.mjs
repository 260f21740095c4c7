#!/usr/bin/env node
// `pnpm test:unit`: jest's `unit` project only (packages/*/tests, services/*/tests) on the sources, with
// no build and no service processes, then one line with the count and the wall-clock time, so the
// "seconds" promise of the README is checked every time someone runs it.
//   node scripts/test-unit.mjs [jest options and path patterns]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../', import.meta.url));
const jest = join(repo, 'node_modules/jest/bin/jest.js');
// jest writes its machine-readable report here and its usual output to the terminal.
const reportDir = mkdtempSync(join(tmpdir(), 'hoarfrost-unit-'));
const report = join(reportDir, 'report.json');

const started = process.hrtime.bigint();
const run = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', jest, '--selectProjects', 'unit', '--json', `--outputFile=${report}`, ...process.argv.slice(2)],
  { cwd: repo, stdio: 'inherit' },
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;

let summary = 'no report (jest did not run to the end)';
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  summary = `${r.numPassedTests} passed` + (r.numFailedTests ? `, ${r.numFailedTests} failed` : '') + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : '');
  if (r.numRuntimeErrorTestSuites) summary += `, ${r.numRuntimeErrorTestSuites} suites failed to run`;
} catch {
  /* keep the fallback text */
}
rmSync(reportDir, { recursive: true, force: true });
console.log(`\nunit tests: ${summary} in ${seconds.toFixed(1)}s`);
process.exit(run.status ?? 1);
