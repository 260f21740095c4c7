/**
 * A quick side-by-side of the end-to-end figures (a subset of run.ts, nothing written): FROST 2-of-3,
 * the single-key service and, with BENCH_BASELINE=<dir of another build>, that build; c=1 latency,
 * c=64 throughput and CPU per 1,000 signatures of every process.
 *   node bench/dist/e2e-main.js
 */
import { clusterCpu, deploy, environment, eventLoopLag, latency, startSingleKey, throughput, type ThroughputResult } from './e2e.js';

const seconds = Number(process.env.E2E_SECONDS ?? 8);
const perThousand = (r: ThroughputResult) => Object.entries(r.cpu ?? {}).map(([k, v]) => `${k}=${((1000 * v) / r.ok).toFixed(2)}`).join(' ');
const env = await environment(2, 3);
const cluster = await deploy(2, 3, { env });
const single = await startSingleKey(env);
const base = process.env.BENCH_BASELINE ? await deploy(2, 3, { env, baseline: process.env.BENCH_BASELINE }) : undefined;
console.log('frost    c=1', await latency(env, cluster.url, 300));
console.log('single   c=1', await latency(env, single.url, 300));
if (base) console.log('baseline c=1', await latency(env, base.url, 300));
await eventLoopLag(cluster.opsUrl);
const f = await throughput(env, cluster.url, seconds, { cpu: clusterCpu(cluster) });
console.log('frost    c=64', f.rps.toFixed(0), 'req/s; CPU s per 1000:', perThousand(f));
console.log('coordinator lag', await eventLoopLag(cluster.opsUrl));
for (const s of cluster.signers) console.log(s.name, 'lag', await eventLoopLag(`http://127.0.0.1:${s.ports.opsPort}`));
const sk = await throughput(env, single.url, seconds, { cpu: single.cpu });
console.log('single   c=64', sk.rps.toFixed(0), 'req/s; CPU s per 1000:', perThousand(sk));
if (base) {
  const b = await throughput(env, base.url, seconds, { cpu: clusterCpu(base) });
  console.log('baseline c=64', b.rps.toFixed(0), 'req/s; CPU s per 1000:', perThousand(b));
}
await single.proc.stop();
await cluster.stop();
await base?.stop();
