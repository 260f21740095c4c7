/**
 * What a scenario is and returns: a fault run against a real deployment, with a full size (`pnpm
 * chaos`) and a short one (the CI test), that yields one figure line and targets, each a measured
 * value against its bound.
 * @module
 */
import { performance } from 'node:perf_hooks';

export interface Target {
  name: string;
  value: number;
  op: '<=' | '>=' | '==';
  bound: number;
  unit: string;
  pass: boolean;
}

export function target(name: string, value: number, op: Target['op'], bound: number, unit = ''): Target {
  const pass = op === '<=' ? value <= bound : op === '>=' ? value >= bound : value === bound;
  return { name, value, op, bound, unit, pass };
}

export const describeTarget = (t: Target): string => `${t.name} ${round(t.value)}${t.unit} (target ${t.op} ${round(t.bound)}${t.unit})`;

const round = (x: number): string => (x === Infinity ? '∞' : Number.isInteger(x) || Number.isNaN(x) ? String(x) : x.toFixed(Math.abs(x) >= 100 ? 0 : 2));

export interface Measured {
  /** One line: the scenario's figures. */
  figure: string;
  targets: Target[];
  /** Everything else worth keeping in the results file (counts, breakdowns, examples). */
  details: Record<string, unknown>;
}

export interface ScenarioResult extends Measured {
  id: string;
  title: string;
  size: 'full' | 'short';
  pass: boolean;
  seconds: number;
  params: unknown;
}

export interface ScenarioContext {
  /** Seed of every random choice a scenario makes (printed with the results). */
  seed: number;
  /** Progress lines (stderr). */
  log: (message: string) => void;
  /** Service entry points to run instead of the workspace's builds (e.g. another checkout's). */
  services?: { signerMain?: string; coordinatorMain?: string };
}

export interface Scenario<P = unknown> {
  id: string;
  title: string;
  full: P;
  short: P;
  run(params: P, ctx: ScenarioContext): Promise<Measured>;
}

/** Runs one scenario at `size`, prints its figure line (stdout) and returns the result. */
export async function runScenario<P>(s: Scenario<P>, size: 'full' | 'short', ctx: ScenarioContext): Promise<ScenarioResult> {
  const params = s[size];
  const started = performance.now();
  ctx.log(`${s.id}: ${s.title} (${size})`);
  const m = await s.run(params, { ...ctx, log: (msg) => ctx.log(`${s.id}: ${msg}`) });
  const pass = m.targets.every((t) => t.pass);
  const missed = m.targets.filter((t) => !t.pass).map(describeTarget);
  process.stdout.write(`${s.id}: ${m.figure} — ${pass ? 'PASS' : `FAIL (${missed.join('; ')})`}\n`);
  return { id: s.id, title: s.title, size, params, ...m, pass, seconds: Math.round((performance.now() - started) / 100) / 10 };
}
