import { deploy, eventLoopLag, latency, startSingleKey, throughput } from './e2e.js';

const cluster = await deploy(2, 3);
const single = await startSingleKey(cluster.env);
console.log('frost c=1', await latency(cluster.env, cluster.url, 300));
console.log('single c=1', await latency(cluster.env, single.url, 300));
await eventLoopLag(cluster.opsUrl);
console.log('frost c=64', await throughput(cluster.env, cluster.url, 8));
console.log('coordinator lag', await eventLoopLag(cluster.opsUrl));
for (const s of cluster.signers) console.log(s.name, 'lag', await eventLoopLag(`http://127.0.0.1:${s.ports.opsPort}`));
console.log('single c=64', await throughput(cluster.env, single.url, 8));
await single.proc.stop();
await cluster.stop();
