/**
 * The benchmark harness (not a test): compute per operation and per signing against noble and
 * frost-rs, the coordinator ↔ signer transports, end-to-end /sign and /v1/sign/batch over mTLS against
 * a single-key service (with the CPU time of every process per signature), latency growth with t,
 * CPU profiles. Writes bench/results/*.json|svg|md; `pnpm bench` then writes bench/RESULTS.md.
 *   pnpm bench   (ROUNDS=n, E2E_SECONDS=n to adjust; BENCH_PARTS=transports,e2e,growth,profiles to run
 *                 only some parts, keeping the others from the last results.json; BENCH_BASELINE=<dir>
 *                 of another build of this repository to measure it beside this one, e.g. the last commit)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Cluster } from '@hoarfrost/testkit';
import { compareTransports, type TransportResult } from './channel.js';
import { runCompute, type ComputeRow } from './compute.js';
import {
  batchBody,
  checkBatch,
  clusterCpu,
  deploy,
  environment,
  latency,
  machineTicks,
  stageMeans,
  stageSums,
  startSingleKey,
  throughput,
  type Lag,
  type LatencyResult,
  type ThroughputResult,
} from './e2e.js';
import { summarize } from './profile-summary.js';
import { fmt } from './stats.js';
import { lineChart } from './svg.js';

const here = fileURLToPath(new URL('../', import.meta.url));
const results = `${here}results/`;
mkdirSync(results, { recursive: true });
const ROUNDS = Number(process.env.ROUNDS ?? 40);
const SECONDS = Number(process.env.E2E_SECONDS ?? 10);
const BATCH = 64;
const PAIRS: [number, number][] = [[2, 3], [3, 5], [7, 10], [15, 20]];
const GROWTH: [number, number][] = [[2, 3], [3, 5], [5, 7], [7, 10], [10, 14], [15, 20]];
const PARTS = new Set((process.env.BENCH_PARTS ?? 'compute,transports,e2e,growth,profiles').split(','));
const BASELINE = process.env.BENCH_BASELINE;
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return 'n/a';
  }
}

const previous = existsSync(`${results}results.json`) ? (JSON.parse(readFileSync(`${results}results.json`, 'utf8')) as Record<string, unknown>) : {};
const pkgVersion = (name: string) => (JSON.parse(readFileSync(`${here}../node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memory_gib: Math.round(totalmem() / 2 ** 30),
  kernel: release(),
  node: process.version,
  rustc: sh('rustc', ['--version']),
  sodium_native: (JSON.parse(readFileSync(`${here}../packages/frost/node_modules/sodium-native/package.json`, 'utf8')) as { version: string }).version,
  noble_curves: pkgVersion('@noble/curves'),
  load_average_at_start: loadavg().map((x) => x.toFixed(2)).join(' '),
  date: new Date().toISOString(),
};
log(`machine ${JSON.stringify(machine)}`);

// (1) Compute.
let compute = previous.compute as ComputeRow[];
if (PARTS.has('compute')) {
  log('compute benchmark');
  compute = runCompute(PAIRS, { rounds: ROUNDS, nobleRounds: (t) => (t <= 3 ? 5 : t <= 7 ? 3 : 1) });
}

// (1b) The coordinator ↔ signer transports, alone.
let transports = previous.transports as TransportResult[] | undefined;
if (PARTS.has('transports')) {
  log('transports');
  transports = await compareTransports(3);
}

const opsUrlsOf = (c: Cluster): [string, string][] => [['coordinator', c.opsUrl], ...c.signers.map((s) => [s.name, `http://127.0.0.1:${s.ports.opsPort}`] as [string, string])];
const pickMedian = (rs: LatencyResult[]): LatencyResult => [...rs].sort((a, b) => a.p50_ms - b.p50_ms)[Math.floor(rs.length / 2)]!;
const meanRun = (rs: ThroughputResult[]): ThroughputResult => {
  const ok = rs.reduce((a, r) => a + r.ok, 0);
  const cpu: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r.cpu ?? {})) cpu[k] = (cpu[k] ?? 0) + v;
  return {
    rps: rs.reduce((a, r) => a + r.rps, 0) / rs.length,
    p50_ms: rs.reduce((a, r) => a + r.p50_ms, 0) / rs.length,
    p99_ms: rs.reduce((a, r) => a + r.p99_ms, 0) / rs.length,
    errors: rs.reduce((a, r) => a + r.errors, 0),
    non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
    ok,
    cpu,
  };
};
/** CPU seconds per 1,000 signatures, per process, over runs that signed `perRequest` messages per request. */
const cpuPer1000 = (r: ThroughputResult, perRequest = 1): Record<string, number> =>
  Object.fromEntries(Object.entries(r.cpu ?? {}).map(([k, v]) => [k, (1000 * v) / (r.ok * perRequest)]));

// (2) End to end, 2-of-3, against the single-key service (and the baseline build, when given).
interface E2E {
  frost: { c1: LatencyResult; c64: ThroughputResult; cpu_per_1000: Record<string, number> };
  single: { c1: LatencyResult; c64: ThroughputResult; cpu_per_1000: Record<string, number> };
  baseline?: { dir: string; c1: LatencyResult; c64: ThroughputResult; cpu_per_1000: Record<string, number> };
  batch: { size: number; connections: number; signatures_per_s: number; request_p50_ms: number; c1_request_p50_ms: number; cpu_per_1000: Record<string, number>; runs: number[] };
  /** Round-2 requests per RPC the signers answered during the c=64 runs (up to the warm-up). */
  round2_items_per_rpc: number;
  lag: Lag;
  lagC1: Lag;
  /**
   * The FROST c=1 runs taken apart: mean ms of the caller's request, of the coordinator's /sign, of a
   * round-2 RPC as the coordinator waits for it and inside the signer; CPU ms per signature of each
   * process; and how busy the whole machine was (share of both cores), beside the single-key runs'.
   */
  c1_breakdown?: { request_ms: number; sign_ms: number; rpc_ms: number; signer_ms: number; cpu_ms: Record<string, number>; machine_busy: number; single_machine_busy: number; single_cpu_ms: Record<string, number> };
  runs: unknown;
}
let e2e = previous.e2e as E2E;
if (PARTS.has('e2e')) {
  log('end-to-end 2-of-3');
  const env = await environment(2, 3);
  const cluster = await deploy(2, 3, { env });
  const single = await startSingleKey(env);
  const base = BASELINE ? await deploy(2, 3, { env, baseline: BASELINE }) : undefined;
  const opsUrls = opsUrlsOf(cluster);
  // Alternate the implementations (the machine drifts): three rounds at c=1, the median run of each;
  // two at c=64, the mean of the two.
  const c1: Record<string, LatencyResult[]> = { frost: [], single: [], baseline: [] };
  let lagC1: Lag = {};
  // The FROST runs' stages, CPU and machine load are summed over its three windows only.
  const c1Stages = { sign: 0, rpc: 0, signer: 0 };
  const c1Cpu: Record<string, number> = {};
  const c1SingleCpu: Record<string, number> = {};
  const busy = { frost: [0, 0], single: [0, 0] };
  let c1Wall = 0;
  const sampler = clusterCpu(cluster);
  const window = async <T>(into: number[], f: () => Promise<T>): Promise<T> => {
    const t0 = machineTicks();
    const r = await f();
    const t1 = machineTicks();
    if (t0 && t1) (into[0]! += t1.busy - t0.busy), (into[1]! += t1.total - t0.total);
    return r;
  };
  for (let i = 0; i < 3; i++) {
    // The sampler's scrape resets the event-loop histograms (prom-client), so it comes last before the
    // window and first after it: the lag it reads is the window's.
    const [stages0, cpu0] = [await stageSums(cluster), await sampler()];
    const started = performance.now();
    c1.frost!.push(await window(busy.frost, () => latency(env, cluster.url, 300)));
    c1Wall += performance.now() - started;
    const cpu1 = await sampler();
    const stages1 = await stageSums(cluster);
    for (const [k, v] of Object.entries(stageMeans(stages0, stages1))) c1Stages[k as keyof typeof c1Stages] += v / 3;
    for (const k of Object.keys(cpu1)) c1Cpu[k] = (c1Cpu[k] ?? 0) + (cpu1[k]! - cpu0[k]!);
    if (i === 1) lagC1 = sampler.lag;
    const singleCpu0 = await single.cpu();
    c1.single!.push(await window(busy.single, () => latency(env, single.url, 300)));
    const singleCpu1 = await single.cpu();
    for (const k of Object.keys(singleCpu1)) c1SingleCpu[k] = (c1SingleCpu[k] ?? 0) + (singleCpu1[k]! - singleCpu0[k]!);
    if (base) c1.baseline!.push(await latency(env, base.url, 300));
  }
  // latency() signs 50 warm-up messages before its 300 measured ones.
  const c1Signed = 3 * 350;
  const c64: Record<string, ThroughputResult[]> = { frost: [], single: [], baseline: [] };
  const lagRuns: Lag[] = [];
  /** Round-2 requests the signers answered, and the RPCs that carried them (coalescing at work). */
  const round2Load = async () => {
    let requests = 0;
    let rpcs = 0;
    for (const [, u] of opsUrls.slice(1)) {
      const text = await (await fetch(`${u}/metrics`)).text();
      const v = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
      requests += v(/^frost_signer_round2_total\{outcome="ok"\} (\S+)/m);
      rpcs += v(/^frost_signer_rpc_duration_seconds_count\{rpc="round2",status="200"\} (\S+)/m) + v(/^frost_signer_rpc_duration_seconds_count\{rpc="round2_batch",status="200"\} (\S+)/m);
    }
    return { requests, rpcs };
  };
  const loadBefore = await round2Load();
  for (let i = 0; i < 2; i++) {
    const sampler = clusterCpu(cluster);
    c64.frost!.push(await throughput(env, cluster.url, SECONDS, { cpu: sampler }));
    lagRuns.push(sampler.lag);
    c64.single!.push(await throughput(env, single.url, SECONDS, { cpu: single.cpu }));
    if (base) c64.baseline!.push(await throughput(env, base.url, SECONDS, { cpu: clusterCpu(base) }));
  }
  const loadAfter = await round2Load();
  // Batches of 64 messages, 4 requests at a time (every signature of one batch checked first).
  log('batches');
  await checkBatch(env, cluster.url, BATCH);
  const batchC1 = await latency(env, cluster.url, 20, '/v1/sign/batch', batchBody(BATCH));
  const batchRuns: ThroughputResult[] = [];
  for (let i = 0; i < 2; i++) batchRuns.push(await throughput(env, cluster.url, SECONDS, { connections: 4, path: '/v1/sign/batch', body: batchBody(BATCH), cpu: clusterCpu(cluster) }));
  const batch = meanRun(batchRuns);
  e2e = {
    frost: { c1: pickMedian(c1.frost!), c64: meanRun(c64.frost!), cpu_per_1000: cpuPer1000(meanRun(c64.frost!)) },
    single: { c1: pickMedian(c1.single!), c64: meanRun(c64.single!), cpu_per_1000: cpuPer1000(meanRun(c64.single!)) },
    ...(base ? { baseline: { dir: BASELINE!, c1: pickMedian(c1.baseline!), c64: meanRun(c64.baseline!), cpu_per_1000: cpuPer1000(meanRun(c64.baseline!)) } } : {}),
    batch: {
      size: BATCH,
      connections: 4,
      signatures_per_s: batch.rps * BATCH,
      request_p50_ms: batch.p50_ms,
      c1_request_p50_ms: batchC1.p50_ms,
      cpu_per_1000: cpuPer1000(batch, BATCH),
      runs: batchRuns.map((r) => r.rps * BATCH),
    },
    round2_items_per_rpc: (loadAfter.requests - loadBefore.requests) / Math.max(1, loadAfter.rpcs - loadBefore.rpcs),
    lag: Object.fromEntries(opsUrls.map(([n]) => [n, { p99_ms: Math.max(...lagRuns.map((l) => l[n]!.p99_ms)), max_ms: Math.max(...lagRuns.map((l) => l[n]!.max_ms)) }])),
    lagC1,
    c1_breakdown: {
      request_ms: c1Wall / c1Signed,
      sign_ms: c1Stages.sign,
      rpc_ms: c1Stages.rpc,
      signer_ms: c1Stages.signer,
      cpu_ms: Object.fromEntries(Object.entries(c1Cpu).map(([k, v]) => [k, (1000 * v) / c1Signed])),
      machine_busy: busy.frost[0]! / Math.max(1, busy.frost[1]!),
      single_machine_busy: busy.single[0]! / Math.max(1, busy.single[1]!),
      single_cpu_ms: Object.fromEntries(Object.entries(c1SingleCpu).map(([k, v]) => [k, (1000 * v) / c1Signed])),
    },
    runs: { c1, c64: Object.fromEntries(Object.entries(c64).map(([k, rs]) => [k, rs.map((r) => ({ rps: r.rps, p50_ms: r.p50_ms, p99_ms: r.p99_ms }))])) },
  };
  await single.proc.stop();
  await cluster.stop();
  await base?.stop();
}

// (3) Latency growth with t, and the CPU each signer spends per signature.
interface Growth {
  t: number;
  n: number;
  p50_ms: number;
  p99_ms: number;
  lag_p99_ms: number;
  coordinator_cpu_ms: number;
  signer_cpu_ms: number;
}
let growth = previous.growth as Growth[];
if (PARTS.has('growth')) {
  growth = [];
  for (const [t, n] of GROWTH) {
    log(`latency ${t}-of-${n}`);
    const c = await deploy(t, n);
    const cpu = clusterCpu(c);
    // Signatures made so far, over every key (the counter is labelled by outcome and key).
    const signs = async () => [...(await (await fetch(`${c.opsUrl}/metrics`)).text()).matchAll(/^frost_coordinator_signs_total\{outcome="ok"[,}].*? (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    await latency(c.env, c.url, 20);
    const [before, s0] = [await cpu(), await signs()];
    const r = await latency(c.env, c.url, 200);
    const [after, s1] = [await cpu(), await signs()];
    const lag = cpu.lag;
    const used = (k: string) => after[k]! - before[k]!;
    const signerCpu = c.signers.reduce((a, s) => a + used(s.name), 0);
    // Each signature has t signers: their CPU per signature and per signer.
    growth.push({ t, n, p50_ms: r.p50_ms, p99_ms: r.p99_ms, lag_p99_ms: Math.max(...Object.values(lag).map((l) => l.p99_ms)), coordinator_cpu_ms: (1000 * used('coordinator')) / (s1 - s0), signer_cpu_ms: (1000 * signerCpu) / ((s1 - s0) * t) });
    await c.stop();
  }
}

// (4) Where the time goes under load: CPU profiles of the 2-of-3 deployment at concurrency 64.
let profiles = previous.profiles as { process: string; total_ms: number; rows: { fn: string; self_pct: number }[] }[];
if (PARTS.has('profiles')) {
  log('profiles');
  const profDir = '/tmp/frost-bench-prof';
  rmSync(profDir, { recursive: true, force: true });
  mkdirSync(profDir);
  const pc = await deploy(2, 3, { execArgv: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  const pids: Record<number, string> = { [pc.coordinator.child.pid!]: 'coordinator', ...Object.fromEntries(pc.signers.map((s) => [s.child.pid!, s.name])) };
  await throughput(pc.env, pc.url, 5);
  await pc.stop();
  // File names are CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread.
  profiles = readdirSync(profDir)
    .filter((f) => f.split('.')[4] === '0')
    .map((f) => ({ process: pids[Number(f.split('.')[3])] ?? f, ...summarize(`${profDir}/${f}`, 12) }))
    .filter((p) => p.process === 'coordinator' || p.process === 'signer-1');
}

writeFileSync(`${results}results.json`, JSON.stringify({ machine, compute, transports, e2e, growth, profiles }, null, 2) + '\n');

// Plots.
const impls = [...new Set(compute.map((r) => r.impl))];
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
writeFileSync(`${results}compute.svg`, lineChart('Full signing compute (in-memory), median', 'threshold t (t-of-n)', 'µs (log)', impls.map((impl, i) => ({ name: impl.replace(' (as shipped)', ''), color: colors[i]!, points: compute.filter((r) => r.impl === impl).map((r) => [r.t, r.full_signing_us] as [number, number]) })), { logY: true }));
writeFileSync(`${results}latency-vs-t.svg`, lineChart('/sign latency at concurrency 1 (mTLS, loopback)', 'threshold t (t-of-n)', 'ms', [
  { name: 'p50', color: colors[0]!, points: growth.map((g) => [g.t, g.p50_ms]) },
  { name: 'p99', color: colors[1]!, points: growth.map((g) => [g.t, g.p99_ms]) },
]));

// Report.
const row = (impl: string, t: number) => compute.find((r) => r.impl === impl && r.t === t)!;
const ENGINE = compute.some((r) => r.impl === 'engine (native)') ? 'engine (native)' : 'engine (sodium)';
const RS = compute.find((r) => r.impl.startsWith('frost-rs'))!.impl;
const ratio = (t: number, k: keyof ComputeRow) => (row(ENGINE, t)[k] as number) / (row(RS, t)[k] as number);
const slope = (growth.at(-1)!.p50_ms - growth[0]!.p50_ms) / (growth.at(-1)!.t - growth[0]!.t);
const maxLag = Math.max(...Object.values(e2e.lag).map((l) => l.p99_ms));
const tp = e2e.frost.c64.rps / e2e.single.c64.rps;
const c1Ratio = e2e.frost.c1.p50_ms / e2e.single.c1.p50_ms;
const batchRatio = e2e.batch.signatures_per_s / e2e.single.c64.rps;
const verdict = (ok: boolean) => (ok ? '**met**' : '**missed**');
const cpuTotal = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
const cpuCells = (c: Record<string, number>) => ['coordinator', 'signer-1', 'signer-2', 'signer-3', 'single-key', 'bench'].map((k) => (c[k] === undefined ? '' : c[k]!.toFixed(2))).concat(cpuTotal(c).toFixed(2));
const md: string[] = [];
md.push('# Benchmark results', '', `Generated by \`pnpm bench\` (bench/src/run.ts) on ${machine.date.slice(0, 10)}. Medians; every comparison in one run on one machine.`, '');
md.push('## Machine', '', '| | |', '| --- | --- |', ...Object.entries(machine).map(([k, v]) => `| ${k} | ${v} |`), '');
md.push('## Targets', '', '| target | measured | |', '| --- | --- | --- |');
md.push(`| 2-of-3 signing compute ≤ 1.5× frost-rs | ${ratio(2, 'full_signing_us').toFixed(2)}× in-memory, ${ratio(2, 'full_signing_wire_us').toFixed(2)}× with wire decoding | ${verdict(ratio(2, 'full_signing_us') <= 1.5)} |`);
md.push(`| 7-of-10 signing compute ≤ 2× frost-rs | ${ratio(7, 'full_signing_us').toFixed(2)}× in-memory, ${ratio(7, 'full_signing_wire_us').toFixed(2)}× with wire decoding | ${verdict(ratio(7, 'full_signing_us') <= 2)} in-memory, ${verdict(ratio(7, 'full_signing_wire_us') <= 2)} with wire decoding |`);
md.push(`| /sign p50 at concurrency 1 ≤ 2.5× the single-key service | ${e2e.frost.c1.p50_ms.toFixed(2)} vs ${e2e.single.c1.p50_ms.toFixed(2)} ms = ${c1Ratio.toFixed(2)}× | ${verdict(c1Ratio <= 2.5)} |`);
md.push(`| throughput at concurrency 64 ≥ 40% of the single-key service | ${e2e.frost.c64.rps.toFixed(0)} vs ${e2e.single.c64.rps.toFixed(0)} req/s = ${(100 * tp).toFixed(1)}% | ${verdict(tp >= 0.4)} |`);
md.push(`| batches of ${e2e.batch.size}: signatures/s ≥ the single-key service's requests/s | ${e2e.batch.signatures_per_s.toFixed(0)} vs ${e2e.single.c64.rps.toFixed(0)} = ${(100 * batchRatio).toFixed(0)}% | ${verdict(batchRatio >= 1)} |`);
md.push(`| event-loop delay p99 < 10 ms in every process at c=64 | up to ${maxLag.toFixed(1)} ms | ${verdict(maxLag < 10)} |`);
md.push(`| p50 grows ≤ 0.5 ms per extra signer up to 15-of-20 | ${slope.toFixed(2)} ms per signer (${growth[0]!.p50_ms.toFixed(2)} → ${growth.at(-1)!.p50_ms.toFixed(2)} ms) | ${verdict(slope <= 0.5)} |`, '');
md.push('## Compute per operation and per signing', '', 'frost-rs and the fast backends: median of three alternating runs per size. in-memory: the library API with commitments in memory (what frost-rs\'s API measures). wire: every message crosses a process boundary as bytes and each receiver validates every element (what a deployment does; noble\'s byte API always does it). sign is one participant\'s round 2; aggregate includes verifying the signature.', '');
md.push('| implementation | t-of-n | commit | sign | aggregate | verify share | full signing | full signing (wire) |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [t] of PAIRS) for (const impl of impls) {
  const r = row(impl, t);
  md.push(`| ${impl} | ${r.t}-of-${r.n} | ${fmt(r.commit_us)} | ${fmt(r.sign_us)} | ${fmt(r.aggregate_us)} | ${fmt(r.verify_share_us)} | ${fmt(r.full_signing_us)} | ${fmt(r.full_signing_wire_us)} |`);
}
md.push('', '![compute](compute.svg)', '');
if (transports) {
  md.push('## Coordinator ↔ signer transports (one small authenticated RPC, mTLS on loopback, server in its own process)', '');
  md.push('| transport | p50 round trip | req/s at 64 in flight | CPU per request, client | CPU per request, server |', '| --- | --- | --- | --- | --- |');
  for (const r of transports) md.push(`| ${r.transport} | ${r.p50_us.toFixed(0)} µs | ${r.rps.toFixed(0)} | ${r.client_cpu_us.toFixed(0)} µs | ${r.server_cpu_us.toFixed(0)} µs |`);
  md.push('', 'Median of three alternating runs. http1: undici Pool, 16 keep-alive connections. http2: node:http2, one session, the stream API. ws: `ws`, one connection, a binary frame per RPC with its id.', '');
}
md.push('## End to end (2-of-3, mTLS on loopback, all processes on this machine)', '', '| service | p50 (c=1) | p99 (c=1) | req/s (c=64) | p50 (c=64) | p99 (c=64) |', '| --- | --- | --- | --- | --- | --- |');
md.push(`| FROST 2-of-3 (coordinator + 3 signers) | ${e2e.frost.c1.p50_ms.toFixed(2)} ms | ${e2e.frost.c1.p99_ms.toFixed(2)} ms | ${e2e.frost.c64.rps.toFixed(0)} | ${e2e.frost.c64.p50_ms.toFixed(0)} ms | ${e2e.frost.c64.p99_ms.toFixed(0)} ms |`);
if (e2e.baseline) md.push(`| FROST 2-of-3, baseline build | ${e2e.baseline.c1.p50_ms.toFixed(2)} ms | ${e2e.baseline.c1.p99_ms.toFixed(2)} ms | ${e2e.baseline.c64.rps.toFixed(0)} | ${e2e.baseline.c64.p50_ms.toFixed(0)} ms | ${e2e.baseline.c64.p99_ms.toFixed(0)} ms |`);
md.push(`| single-key Ed25519 (express + node:crypto) | ${e2e.single.c1.p50_ms.toFixed(2)} ms | ${e2e.single.c1.p99_ms.toFixed(2)} ms | ${e2e.single.c64.rps.toFixed(0)} | ${e2e.single.c64.p50_ms.toFixed(0)} ms | ${e2e.single.c64.p99_ms.toFixed(0)} ms |`, '');
const runs = e2e.runs as { c1: Record<string, LatencyResult[]>; c64: Record<string, { rps: number }[]> };
md.push(`c=1: median of three alternating runs (p50s: FROST ${runs.c1.frost!.map((r) => r.p50_ms.toFixed(2)).join(', ')} ms; single-key ${runs.c1.single!.map((r) => r.p50_ms.toFixed(2)).join(', ')} ms${e2e.baseline ? `; baseline ${runs.c1.baseline!.map((r) => r.p50_ms.toFixed(2)).join(', ')} ms` : ''}). c=64: mean of two alternating ${SECONDS} s runs (FROST ${runs.c64.frost!.map((r) => r.rps.toFixed(0)).join(', ')} req/s; single-key ${runs.c64.single!.map((r) => r.rps.toFixed(0)).join(', ')} req/s${e2e.baseline ? `; baseline ${runs.c64.baseline!.map((r) => r.rps.toFixed(0)).join(', ')} req/s` : ''}).`, '');
md.push(`Coalescing: during the c=64 runs the signers answered ${e2e.round2_items_per_rpc.toFixed(1)} round-2 requests per RPC on average (warm-ups included).`, '');
md.push(`Batches: POST /v1/sign/batch with ${e2e.batch.size} messages, ${e2e.batch.connections} requests in flight: ${e2e.batch.signatures_per_s.toFixed(0)} signatures/s (runs: ${e2e.batch.runs.map((x) => x.toFixed(0)).join(', ')}), p50 ${e2e.batch.request_p50_ms.toFixed(0)} ms per batch; one batch at a time: p50 ${e2e.batch.c1_request_p50_ms.toFixed(1)} ms per batch (every signature of a batch verified by the benchmark first).`, '');
md.push('CPU seconds per 1,000 signatures, per process (process.cpuUsage over the measured window; `bench` is the load generator):', '', '| run | coordinator | signer-1 | signer-2 | signer-3 | single-key | bench | all |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
md.push(`| FROST, /sign at c=64 | ${cpuCells(e2e.frost.cpu_per_1000).join(' | ')} |`);
if (e2e.baseline) md.push(`| FROST baseline build, /sign at c=64 | ${cpuCells(e2e.baseline.cpu_per_1000).join(' | ')} |`);
md.push(`| FROST, batches of ${e2e.batch.size} | ${cpuCells(e2e.batch.cpu_per_1000).join(' | ')} |`);
md.push(`| single-key, /sign at c=64 | ${cpuCells(e2e.single.cpu_per_1000).join(' | ')} |`, '');
if (e2e.c1_breakdown) {
  const b = e2e.c1_breakdown;
  md.push('Where a signature goes at c=1 (FROST runs above; means from the services\' own histograms, warm-ups included):', '', '| stage | mean |', '| --- | --- |');
  md.push(`| the caller's request (load generator's wall time per signature) | ${b.request_ms.toFixed(2)} ms |`);
  md.push(`| the coordinator's /sign (request in → answer written) | ${b.sign_ms.toFixed(2)} ms |`);
  md.push(`| a round-2 RPC as the coordinator waits for it (token, frame, signer, answer decoded) | ${b.rpc_ms.toFixed(2)} ms |`);
  md.push(`| a round-2 RPC inside the signer (frame in → answer out) | ${b.signer_ms.toFixed(2)} ms |`, '');
  md.push(`CPU ms per signature at c=1: ${Object.entries(b.cpu_ms).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}; all ${cpuTotal(b.cpu_ms).toFixed(2)}. The machine's cores were ${(100 * b.machine_busy).toFixed(0)}% busy during the FROST c=1 runs (${(100 * b.single_machine_busy).toFixed(0)}% during the single-key ones).`, '');
}
md.push('Event-loop delay (prom-client `nodejs_eventloop_lag_p99_seconds` / `_max_seconds` minus its 10 ms sampling interval):', '', '| process | p99 at c=64 | max at c=64 | p99 at c=1 |', '| --- | --- | --- | --- |', ...Object.entries(e2e.lag).map(([k, v]) => `| ${k} | ${v.p99_ms.toFixed(1)} ms | ${v.max_ms.toFixed(1)} ms | ${e2e.lagC1[k]?.p99_ms.toFixed(1) ?? ''} ms |`), '');
md.push('## Latency growth with t (concurrency 1)', '', '| t-of-n | p50 | p99 | worst event-loop delay p99 (any process) | coordinator CPU per signature | CPU per signature per signer |', '| --- | --- | --- | --- | --- | --- |', ...growth.map((g) => `| ${g.t}-of-${g.n} | ${g.p50_ms.toFixed(2)} ms | ${g.p99_ms.toFixed(2)} ms | ${g.lag_p99_ms.toFixed(1)} ms | ${g.coordinator_cpu_ms.toFixed(2)} ms | ${g.signer_cpu_ms.toFixed(2)} ms |`), '', '![latency vs t](latency-vs-t.svg)', '');
md.push('## Profiles under load (2-of-3, c=64): self time, top functions', '');
for (const p of profiles) {
  md.push(`**${p.process}** (${(p.total_ms / 1000).toFixed(1)} s sampled)`, '', '| self | function |', '| --- | --- |', ...p.rows.map((r) => `| ${r.self_pct.toFixed(1)}% | \`${r.fn}\` |`), '');
}
writeFileSync(`${results}report.md`, md.join('\n') + '\n');
log(`wrote ${results}results.json, ${results}report.md`);
console.log(md.join('\n'));
