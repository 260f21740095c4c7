/**
 * End-to-end benchmark over mTLS on loopback: the FROST deployment (coordinator + signer processes)
 * against a single-key Ed25519 HTTPS service on the same stack, in the same run.
 *   (1) /sign latency at concurrency 1 (p50/p99), (2) throughput at concurrency 64 (autocannon) with
 *   event-loop lag of every FROST process, (3) p50 as t grows.
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { createDevEnvironment, startCluster, startService, type Cluster, type DevEnvironment, type ServiceProcess } from '@hoarfrost/testkit';
import { median, percentile } from './stats.js';

const MESSAGE_B64 = Buffer.from(
  'eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.' + Buffer.from(JSON.stringify({ sub: 'token-42', iat: 1763700000, amount: '100.00', currency: 'EUR' })).toString('base64url'),
).toString('base64');
const BODY = JSON.stringify({ msg_b64: MESSAGE_B64 });

export interface LatencyResult {
  p50_ms: number;
  p99_ms: number;
  samples: number;
}

/** Sequential requests over one keep-alive mTLS connection. */
export async function latency(env: DevEnvironment, url: string, requests: number): Promise<LatencyResult> {
  const agent = new Agent({ connections: 1, connect: { ca: readFileSync(env.caFile), cert: readFileSync(env.clientCertFile), key: readFileSync(env.clientKeyFile) } });
  const one = async () => {
    const res = await request(`${url}/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, dispatcher: agent });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${text}`);
  };
  for (let i = 0; i < 50; i++) await one();
  const xs: number[] = [];
  for (let i = 0; i < requests; i++) {
    const t = process.hrtime.bigint();
    await one();
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  await agent.close();
  return { p50_ms: median(xs), p99_ms: percentile(xs, 99), samples: xs.length };
}

export interface ThroughputResult {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non2xx: number;
}

export async function throughput(env: DevEnvironment, url: string, seconds: number, connections = 64): Promise<ThroughputResult> {
  const tlsOptions = { ca: readFileSync(env.caFile), cert: readFileSync(env.clientCertFile), key: readFileSync(env.clientKeyFile) };
  const run = (duration: number) =>
    autocannon({ url: `${url}/sign`, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections, duration, tlsOptions } as never) as unknown as Promise<{
      requests: { average: number };
      latency: { p50: number; p99: number };
      errors: number;
      non2xx: number;
      duration: number;
      '2xx': number;
    }>;
  await run(2); // warm up connections and JIT
  const r = await run(seconds);
  return { rps: r['2xx'] / r.duration, p50_ms: r.latency.p50, p99_ms: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
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

export async function startSingleKey(env: DevEnvironment): Promise<{ url: string; proc: ServiceProcess }> {
  const script = fileURLToPath(new URL('./single-key-server.js', import.meta.url));
  const proc = await startService('single-key', script, { BENCH_CA_FILE: env.callerCaFile, BENCH_CERT_FILE: env.coordinatorCertFile, BENCH_KEY_FILE: env.coordinatorKeyFile }, { readyMessage: 'single-key ready' });
  return { url: `https://127.0.0.1:${proc.ports.port}`, proc };
}

export async function deploy(t: number, n: number, execArgv?: string[]): Promise<Cluster> {
  const env = await createDevEnvironment(mkdtempSync(join(tmpdir(), `frost-bench-${t}of${n}-`)), { threshold: t, signers: n });
  return startCluster(env, { ...(execArgv ? { execArgv } : {}), coordinatorExtraEnv: { COORDINATOR_SIGN_DEADLINE_MS: '30000', COORDINATOR_SIGNER_TIMEOUT_MS: '10000' } });
}
