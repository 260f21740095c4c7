import { runCompute } from './compute.js';
import { fmt } from './stats.js';

const rows = runCompute([[2, 3], [3, 5], [7, 10], [15, 20]], { rounds: Number(process.env.ROUNDS ?? 40), nobleRounds: (t) => (t <= 3 ? 5 : t <= 7 ? 3 : 1) });
for (const r of rows) console.log(`${r.impl.padEnd(34)} ${r.t}-of-${r.n}`.padEnd(44), 'commit', fmt(r.commit_us).padStart(9), 'sign', fmt(r.sign_us).padStart(9), 'agg', fmt(r.aggregate_us).padStart(9), 'full', fmt(r.full_signing_us).padStart(9), 'wire', fmt(r.full_signing_wire_us).padStart(9));
