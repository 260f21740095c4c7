/**
 * `pnpm chaos`: runs the reliability suite against real local deployments and writes
 * chaos/results/<date>.json (machine, seed, every scenario's figures, targets and details), then
 * prints a table. Exits 1 when a target is missed.
 *   node chaos/dist/run.js [--short] [scenario-id ...]
 * CHAOS_SEED=n changes the seed; CHAOS_SIGNER_MAIN and CHAOS_COORDINATOR_MAIN run other builds of the
 * services (e.g. an older checkout's dist/main.js).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SEED, SCENARIOS, describeTarget, runScenario, servicesFromEnv, type ScenarioResult } from './index.js';

const args = process.argv.slice(2);
const size = args.includes('--short') ? 'short' : 'full';
const only = args.filter((a) => !a.startsWith('--'));
const unknown = only.filter((id) => !SCENARIOS.some((s) => s.id === id));
if (unknown.length) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}\n`);
  process.exit(2);
}
const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) >>> 0 : DEFAULT_SEED;
const log = (m: string) => process.stderr.write(`[chaos] ${m}\n`);
const services = servicesFromEnv(process.env) ?? {};

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'n/a';
  }
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memory_gib: Math.round(totalmem() / 2 ** 30),
  kernel: release(),
  node: process.version,
  commit: git(['rev-parse', '--short', 'HEAD']),
  date: new Date().toISOString(),
};
log(`machine ${JSON.stringify(machine)}`);
log(`seed 0x${seed.toString(16)}, ${size} size${Object.keys(services).length ? `, services ${JSON.stringify(services)}` : ''}`);

const results: ScenarioResult[] = [];
for (const s of SCENARIOS.filter((x) => only.length === 0 || only.includes(x.id))) {
  try {
    results.push(await runScenario(s, size, { seed, log, services }));
  } catch (e) {
    // A scenario that cannot run is a failed scenario, not the end of the suite.
    const message = (e as Error)?.stack ?? String(e);
    log(`${s.id} did not run to the end: ${message}`);
    results.push({ id: s.id, title: s.title, size, params: s[size], figure: `did not complete: ${(e as Error)?.message ?? e}`, targets: [], details: { error: message }, pass: false, seconds: 0 });
  }
}

const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = `${dir}${machine.date.replace(/[:.]/g, '-')}${size === 'short' ? '-short' : ''}.json`;
writeFileSync(file, JSON.stringify({ machine, seed: `0x${seed.toString(16)}`, size, ...(Object.keys(services).length ? { services } : {}), results }, null, 2) + '\n');

const rows = results.map((r) => [r.id, r.pass ? 'pass' : 'FAIL', `${r.seconds} s`, r.figure]);
const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length), ['scenario', 'result', 'time'][i]!.length));
const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ');
process.stdout.write(`\n${line(['scenario', 'result', 'time', 'figure'])}\n`);
for (const row of rows) process.stdout.write(`${line(row)}\n`);
for (const r of results.filter((x) => !x.pass)) {
  const missed = r.targets.filter((t) => !t.pass).map(describeTarget);
  if (missed.length) process.stdout.write(`\n${r.id} missed: ${missed.join('; ')}`);
}
process.stdout.write(`\n\nresults: ${file}\n`);
process.exit(results.every((r) => r.pass) ? 0 : 1);
