/**
 * End-to-end benchmark over mTLS on loopback: the FROST deployment (coordinator + signer processes)
 * against a single-key Ed25519 HTTPS service on the same stack, in the same run.
 *   (1) /sign latency at concurrency 1 (p50/p99), (2) throughput at concurrency 64 (autocannon) with
 *   event-loop lag and CPU time of every process, (3) batches of 64 messages on /v1/sign/batch,
 *   (4) p50 as t grows.
 * CPU time is process.cpuUsage of each process (the services' prom-client process metrics, the
 * single-key service's /cpu, this process for the load generator), read around the measured window.
 */
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { createDevEnvironment, startCluster, startService, type Cluster, type DevEnvironment, type ServiceProcess } from '@hoarfrost/testkit';
import { median, percentile } from './stats.js';

const messageOf = (i: number) =>
  Buffer.from('eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.' + Buffer.from(JSON.stringify({ sub: `token-${i}`, iat: 1763700000, amount: '100.00', currency: 'EUR' })).toString('base64url'));
const MESSAGE_B64 = messageOf(42).toString('base64');
const BODY = JSON.stringify({ msg_b64: MESSAGE_B64 });

/** The body of a POST /v1/sign/batch carrying `n` distinct messages. */
export function batchBody(n: number): string {
  return JSON.stringify({ items: Array.from({ length: n }, (_, i) => ({ msg_b64: messageOf(i).toString('base64') })) });
}

export interface LatencyResult {
  p50_ms: number;
  p99_ms: number;
  samples: number;
}

function tlsOf(env: DevEnvironment) {
  return { ca: readFileSync(env.caFile), cert: readFileSync(env.clientCertFile), key: readFileSync(env.clientKeyFile) };
}

/** Sequential requests over one keep-alive mTLS connection. */
export async function latency(env: DevEnvironment, url: string, requests: number, path = '/sign', body = BODY): Promise<LatencyResult> {
  const agent = new Agent({ connections: 1, connect: tlsOf(env) });
  const one = async () => {
    const res = await request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher: agent });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${text}`);
  };
  for (let i = 0; i < Math.min(50, requests); i++) await one();
  const xs: number[] = [];
  for (let i = 0; i < requests; i++) {
    const t = process.hrtime.bigint();
    await one();
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  await agent.close();
  return { p50_ms: median(xs), p99_ms: percentile(xs, 99), samples: xs.length };
}

/** One POST /v1/sign/batch of `n` messages: every signature checked with node:crypto (throws otherwise). */
export async function checkBatch(env: DevEnvironment, url: string, n: number): Promise<void> {
  const agent = new Agent({ connections: 1, connect: tlsOf(env) });
  try {
    const res = await request(`${url}/v1/sign/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batchBody(n), dispatcher: agent });
    const r = (await res.body.json()) as { group_public_b64: string; results: { signature_b64?: string }[] };
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(r.group_public_b64, 'base64').toString('base64url') }, format: 'jwk' });
    r.results.forEach((x, i) => {
      if (!x.signature_b64 || !verify(null, messageOf(i), key, Buffer.from(x.signature_b64, 'base64'))) throw new Error(`batch item ${i} did not verify: ${JSON.stringify(x)}`);
    });
  } finally {
    await agent.close();
  }
}

export interface ThroughputResult {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non2xx: number;
  /** Successful requests in the measured window. */
  ok: number;
  /** CPU seconds each sampled process spent in the measured window. */
  cpu?: Record<string, number>;
}

/** CPU seconds so far of each process, by name. */
export type CpuSampler = () => Promise<Record<string, number>>;

export interface ThroughputOptions {
  connections?: number;
  path?: string;
  body?: string;
  /** Read before and after the measured window (not the warm-up). */
  cpu?: CpuSampler;
}

export async function throughput(env: DevEnvironment, url: string, seconds: number, options: ThroughputOptions = {}): Promise<ThroughputResult> {
  const { connections = 64, path = '/sign', body = BODY } = options;
  const run = (duration: number) =>
    autocannon({ url: `${url}${path}`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration, tlsOptions: tlsOf(env) } as never) as unknown as Promise<{
      latency: { p50: number; p99: number };
      errors: number;
      non2xx: number;
      duration: number;
      '2xx': number;
    }>;
  await run(2); // warm up connections and JIT
  const before = await options.cpu?.();
  const r = await run(seconds);
  const after = await options.cpu?.();
  const cpu = before && after ? Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - before[k]!])) : undefined;
  return { rps: r['2xx'] / r.duration, p50_ms: r.latency.p50, p99_ms: r.latency.p99, errors: r.errors, non2xx: r.non2xx, ok: r['2xx'], ...(cpu ? { cpu } : {}) };
}

/**
 * prom-client samples the event loop with perf_hooks.monitorEventLoopDelay at a 10 ms resolution, and
 * Node records the whole interval between samples (an idle process reports ≈10.2 ms), so the delay is
 * the recorded value minus the resolution.
 */
export const EVENT_LOOP_RESOLUTION_MS = 10;

/** Event-loop delay of a FROST process since the previous scrape (prom-client resets per scrape). */
export async function eventLoopLag(opsUrl: string): Promise<{ p99_ms: number; max_ms: number }> {
  const text = await (await fetch(`${opsUrl}/metrics`)).text();
  const v = (name: string) => Math.max(0, Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000 - EVENT_LOOP_RESOLUTION_MS);
  return { p99_ms: v('nodejs_eventloop_lag_p99_seconds'), max_ms: v('nodejs_eventloop_lag_max_seconds') };
}

/** Event-loop delay since the previous scrape, as {@link eventLoopLag} reads it. */
export type Lag = Record<string, { p99_ms: number; max_ms: number }>;

/** One scrape of a service's ops port: its CPU seconds (prom-client's process metrics: process.cpuUsage) and event-loop delay. */
async function scrape(opsUrl: string): Promise<{ cpu: number; lag: { p99_ms: number; max_ms: number } }> {
  const text = await (await fetch(`${opsUrl}/metrics`)).text();
  const v = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  const delay = (name: string) => Math.max(0, v(name) * 1000 - EVENT_LOOP_RESOLUTION_MS);
  return { cpu: v('process_cpu_user_seconds_total') + v('process_cpu_system_seconds_total'), lag: { p99_ms: delay('nodejs_eventloop_lag_p99_seconds'), max_ms: delay('nodejs_eventloop_lag_max_seconds') } };
}

/** This process (the load generator). */
const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * CPU of every process of a deployment, and of the load generator (`bench`). Each sample scrapes the
 * services once, which also resets their event-loop histograms: `lag` holds the delay each process saw
 * between the last two samples (around a measured window: during it).
 */
export function clusterCpu(c: Cluster): CpuSampler & { lag: Lag } {
  const ops: [string, string][] = [['coordinator', c.opsUrl], ...c.signers.map((s) => [s.name, `http://127.0.0.1:${s.ports.opsPort}`] as [string, string])];
  const sampler = Object.assign(
    async () => {
      const got = await Promise.all(ops.map(async ([n, u]) => [n, await scrape(u)] as const));
      sampler.lag = Object.fromEntries(got.map(([n, x]) => [n, x.lag]));
      return { ...Object.fromEntries(got.map(([n, x]) => [n, x.cpu])), bench: ownCpu() };
    },
    { lag: {} as Lag },
  );
  return sampler;
}

export interface SingleKey {
  url: string;
  proc: ServiceProcess;
  cpu: CpuSampler;
}

export async function startSingleKey(env: DevEnvironment): Promise<SingleKey> {
  const script = fileURLToPath(new URL('./single-key-server.js', import.meta.url));
  const proc = await startService('single-key', script, { BENCH_CA_FILE: env.callerCaFile, BENCH_CERT_FILE: env.coordinatorCertFile, BENCH_KEY_FILE: env.coordinatorKeyFile }, { readyMessage: 'single-key ready' });
  const url = `https://127.0.0.1:${proc.ports.port}`;
  const agent = new Agent({ connections: 1, connect: tlsOf(env) });
  const cpu: CpuSampler = async () => {
    const u = (await (await request(`${url}/cpu`, { dispatcher: agent })).body.json()) as NodeJS.CpuUsage;
    return { 'single-key': (u.user + u.system) / 1e6, bench: ownCpu() };
  };
  return { url, proc, cpu };
}

/**
 * Where a signature's time goes, from the services' own histograms (sums and counts, so means):
 * the coordinator's time in /sign, a round-2 RPC as the coordinator waits for it, and a round-2 RPC
 * inside the signer (frame in to answer out). Read before and after a window; {@link stageMeans}
 * turns two readings into means over it.
 */
export type StageSums = Record<'sign' | 'rpc' | 'signer', { sum: number; count: number }>;

export async function stageSums(c: Cluster): Promise<StageSums> {
  const read = async (u: string) => (await fetch(`${u}/metrics`)).text();
  const total = (text: string, series: RegExp) => {
    let sum = 0;
    let count = 0;
    for (const m of text.matchAll(series)) (m[1] === 'sum' ? (sum += Number(m[2])) : (count += Number(m[2])));
    return { sum, count };
  };
  const coordinator = await read(c.opsUrl);
  const signer = { sum: 0, count: 0 };
  for (const s of c.signers) {
    const x = total(await read(`http://127.0.0.1:${s.ports.opsPort}`), /^frost_signer_rpc_duration_seconds_(sum|count)\{rpc="round2",status="200"\} (\S+)/gm);
    signer.sum += x.sum;
    signer.count += x.count;
  }
  return {
    sign: total(coordinator, /^frost_coordinator_sign_duration_seconds_(sum|count)\{outcome="ok"\} (\S+)/gm),
    rpc: total(coordinator, /^frost_coordinator_signer_request_duration_seconds_(sum|count)\{signer="[^"]*",rpc="round2"\} (\S+)/gm),
    signer,
  };
}

/** Mean milliseconds of each stage between two readings. */
export function stageMeans(before: StageSums, after: StageSums): Record<keyof StageSums, number> {
  const mean = (k: keyof StageSums) => (1000 * (after[k].sum - before[k].sum)) / Math.max(1, after[k].count - before[k].count);
  return { sign: mean('sign'), rpc: mean('rpc'), signer: mean('signer') };
}

/** Busy and total jiffies of the whole machine so far (Linux /proc/stat; undefined elsewhere). */
export function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = cpu[3]! + (cpu[4] ?? 0); // idle + iowait
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** A fresh t-of-n environment. */
export async function environment(t: number, n: number): Promise<DevEnvironment> {
  return createDevEnvironment(mkdtempSync(join(tmpdir(), `frost-bench-${t}of${n}-`)), { threshold: t, signers: n });
}

/**
 * A t-of-n deployment (on `env` when given). `baseline`: the directory of another build of this
 * repository (its services' dist), to measure the version before a change in the same run.
 */
export async function deploy(t: number, n: number, options: { execArgv?: string[]; env?: DevEnvironment; baseline?: string } = {}): Promise<Cluster> {
  const env = options.env ?? (await environment(t, n));
  return startCluster(env, {
    ...(options.execArgv ? { execArgv: options.execArgv } : {}),
    ...(options.baseline
      ? { signerMain: join(options.baseline, 'services/signer/dist/main.js'), coordinatorMain: join(options.baseline, 'services/coordinator/dist/main.js') }
      : {}),
    coordinatorExtraEnv: { COORDINATOR_SIGN_DEADLINE_MS: '30000', COORDINATOR_SIGNER_TIMEOUT_MS: '10000' },
  });
}
