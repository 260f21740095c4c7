import { compareTransports } from './channel.js';

for (const r of await compareTransports(Number(process.env.ROUNDS ?? 3))) {
  console.log(`${r.transport.padEnd(6)} p50 ${r.p50_us.toFixed(0)} µs  ${r.rps.toFixed(0)} req/s at 64 in flight  cpu/request client ${r.client_cpu_us.toFixed(0)} µs, server ${r.server_cpu_us.toFixed(0)} µs`);
}
