/**
 * Key generation through the deployment, timed: for each size, a local cluster with no dealer key
 * (real processes, real mutual TLS), then `runs` key generations through the coordinator's admin API
 * (POST /admin/v1/keys, the request `frostctl keys create` makes; each followed by a signature with the
 * new key) and as many refreshes, each timed from the request to the stream's last line. Prints
 * medians and writes bench/results/keygen.json.
 *   node bench/dist/keygen-main.js [runs=5]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevEnvironment, startCluster } from '@hoarfrost/testkit';
import { MintClient } from '@hoarfrost/testkit/support';
import { median } from './stats.js';

const runs = Number(process.argv[2] ?? 5);
const SIZES: [number, number][] = [
  [2, 3],
  [3, 5],
  [7, 10],
];

/** One admin request (a key generation or refresh): ms from the request to its stream's last line. */
async function timed(operator: MintClient, path: string, body: object): Promise<number> {
  const started = performance.now();
  const r = await operator.post(path, body);
  const totalMs = performance.now() - started;
  const lines = String(r.json.raw ?? JSON.stringify(r.json)).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const last = lines.at(-1);
  if (r.status !== 200 || last?.event !== 'done') throw new Error(`${path} failed: ${r.status} ${JSON.stringify(last ?? r.json)}`);
  return totalMs;
}

const results: Record<string, unknown>[] = [];
for (const [t, n] of SIZES) {
  const env = await createDevEnvironment(mkdtempSync(join(tmpdir(), `frost-bench-keygen-${t}of${n}-`)), { threshold: t, signers: n, dealer: false });
  const cluster = await startCluster(env);
  const operator = new MintClient(env, cluster.url, { as: 'operator' });
  const caller = new MintClient(env, cluster.url);
  try {
    const create: number[] = [];
    const refresh: number[] = [];
    for (let i = 0; i < runs; i++) {
      const keyId = `bench-${i}`;
      create.push(await timed(operator, '/admin/v1/keys', { key_id: keyId, threshold: t }));
      const signed = await caller.sign(new TextEncoder().encode('after keygen'), { key_id: keyId });
      if (signed.status !== 200) throw new Error(`signing with ${keyId} failed: ${JSON.stringify(signed.json)}`);
      refresh.push(await timed(operator, `/admin/v1/keys/${keyId}/refresh`, {}));
    }
    const row = { t, n, runs, createMsMedian: Math.round(median(create)), refreshMsMedian: Math.round(median(refresh)), createMs: create.map(Math.round), refreshMs: refresh.map(Math.round) };
    results.push(row);
    process.stdout.write(`${t}-of-${n}: key generation median ${row.createMsMedian} ms (${row.createMs.join(', ')}), refresh median ${row.refreshMsMedian} ms (${row.refreshMs.join(', ')})\n`);
  } finally {
    await operator.close();
    await caller.close();
    await cluster.stop();
  }
}
const out = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'keygen.json'), JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, date: new Date().toISOString(), results }, null, 2) + '\n');
