/**
 * Scenario 3: a signer is stopped (SIGSTOP) under load and resumed later (SIGCONT). Its connections
 * stay open and it answers nothing — the hardest failure for a caller's timeouts. Every request must
 * still succeed (two signers remain) and none may take longer than the coordinator's sign deadline
 * plus a small margin (as the coordinator's audit lines time it; the callers' view is reported too).
 * @module
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { deploy } from '../deploy.js';
import { okFigure, startLoad, summarize } from '../load.js';
import { Rng } from '../rng.js';
import { target, type Scenario } from '../scenario.js';
import { max, percentile, sleep } from '../stats.js';

export interface SignerStalledParams {
  concurrency: number;
  warmMs: number;
  stallMs: number;
  afterMs: number;
  /** COORDINATOR_SIGN_DEADLINE_MS given to the coordinator. */
  deadlineMs: number;
  /** Target: no request longer than the deadline plus this. */
  marginMs: number;
}

export const signerStalled: Scenario<SignerStalledParams> = {
  id: 'signer-stalled',
  title: 'a signer stopped (SIGSTOP) under load, then resumed',
  full: { concurrency: 32, warmMs: 3000, stallMs: 10_000, afterMs: 5000, deadlineMs: 5000, marginMs: 100 },
  short: { concurrency: 32, warmMs: 1000, stallMs: 10_000, afterMs: 2000, deadlineMs: 5000, marginMs: 100 },
  async run(p, ctx) {
    const d = await deploy('stalled', ctx, () => ({ coordinatorExtraEnv: { COORDINATOR_SIGN_DEADLINE_MS: String(p.deadlineMs) } }));
    try {
      const victim = new Rng(ctx.seed).pick(d.cluster.signers);
      // The callers' own event-loop delay is part of what they measure: kept, to tell it apart.
      const lag = monitorEventLoopDelay({ resolution: 10 });
      lag.enable();
      const load = startLoad(d.target, { concurrency: p.concurrency });
      await sleep(p.warmMs);
      victim.pause();
      const stalledAt = performance.now();
      ctx.log(`${victim.name} stopped`);
      await sleep(p.stallMs);
      victim.resume();
      ctx.log(`${victim.name} resumed`);
      await sleep(p.afterMs);
      const records = await load.stop();
      lag.disable();
      const s = summarize(records);
      const latencies = records.map((r) => r.latencyMs);
      const worst = max(latencies);
      // The target is judged on the coordinator's own durations (its audit lines): what callers measure
      // on this shared machine adds their own scheduling delay (callerEventLoopDelayMaxMs below).
      const served = d.serverSignMs.length > 0 ? max(d.serverSignMs) : worst;
      const over = d.serverSignMs.filter((ms) => ms > p.deadlineMs + p.marginMs).length;
      const during = records.filter((r) => r.startedAt >= stalledAt && r.startedAt < stalledAt + p.stallMs);
      return {
        figure: `${okFigure(s)}, ${s.invalid} invalid; max /sign ${Math.round(served)} ms in the coordinator (${Math.round(worst)} ms seen by callers) against a ${p.deadlineMs} ms deadline, ${over} over deadline + ${p.marginMs} ms; p99 ${Math.round(percentile(latencies, 99))} ms (${victim.name} stopped ${p.stallMs / 1000} s)`,
        targets: [
          target('success ratio', s.successRatio * 100, '>=', 100, '%'),
          target('invalid signatures', s.invalid, '==', 0),
          target('max overrun of the deadline', Math.round(served - p.deadlineMs), '<=', p.marginMs, ' ms'),
        ],
        details: {
          victim: victim.name,
          all: s,
          duringStall: summarize(during),
          latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: worst },
          serverMaxMs: served,
          callerEventLoopDelayMaxMs: Math.round(lag.max / 1e6),
          overDeadlinePlusMargin: over,
          callersOverDeadlinePlusMargin: records.filter((r) => r.latencyMs > p.deadlineMs + p.marginMs).length,
          breakerEvents: d.breakerEvents.map((e) => `${e.signer}:${e.state}`),
        },
      };
    } finally {
      await d.close();
    }
  },
};
