import { readdirSync, mkdirSync, rmSync } from 'node:fs';
import { deploy, throughput } from './e2e.js';
import { summarize } from './profile-summary.js';

const dir = '/tmp/frost-prof';
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir);
const cluster = await deploy(2, 3, { execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
console.log(await throughput(cluster.env, cluster.url, 6));
await cluster.stop();
for (const f of readdirSync(dir)) {
  const s = summarize(`${dir}/${f}`, 25);
  console.log(`\n== ${f} (${s.total_ms.toFixed(0)} ms)`);
  for (const r of s.rows) console.log(r.self_pct.toFixed(1).padStart(5), '%', r.fn);
}
