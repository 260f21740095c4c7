/**
 * Scenario 1: one of three signers is SIGKILLed while callers sign concurrently. A 2-of-3 deployment
 * must keep answering every request with a signature, each valid.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { deploy } from '../deploy.js';
import { okFigure, startLoad, summarize } from '../load.js';
import { Rng } from '../rng.js';
import { target, type Scenario } from '../scenario.js';
import { max, percentile, waitFor } from '../stats.js';

export interface SignerKilledParams {
  requests: number;
  concurrency: number;
  /** The kill comes once this fraction of the requests is answered. */
  killAt: number;
}

export const signerKilled: Scenario<SignerKilledParams> = {
  id: 'signer-killed',
  title: 'one of three signers SIGKILLed under concurrent load',
  full: { requests: 2000, concurrency: 8, killAt: 0.25 },
  short: { requests: 300, concurrency: 4, killAt: 0.25 },
  async run(p, ctx) {
    const d = await deploy('killed', ctx);
    try {
      const victim = new Rng(ctx.seed).pick(d.cluster.signers);
      const load = startLoad(d.target, { concurrency: p.concurrency, requests: p.requests });
      await waitFor(() => load.completed >= p.requests * p.killAt, 120_000, 'the first requests');
      const killedAt = performance.now();
      const answeredBefore = load.completed;
      await victim.stop('SIGKILL');
      ctx.log(`${victim.name} killed after ${answeredBefore} answers`);
      const records = await load.done;
      const s = summarize(records);
      const after = summarize(records.filter((r) => r.startedAt + r.latencyMs > killedAt));
      const latencies = records.map((r) => r.latencyMs);
      return {
        figure: `${okFigure(s)}, ${s.invalid} invalid signatures (${victim.name} SIGKILLed after ${answeredBefore} answers; ${okFigure(after)} from then on)`,
        targets: [target('success ratio', s.successRatio * 100, '>=', 100, '%'), target('invalid signatures', s.invalid, '==', 0)],
        details: { victim: victim.name, answeredBeforeKill: answeredBefore, all: s, afterKill: after, latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: max(latencies) } },
      };
    } finally {
      await d.close();
    }
  },
};
