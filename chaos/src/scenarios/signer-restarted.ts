/**
 * Scenario 2: a signer is SIGKILLed under load and started again on the same port. Every request must
 * still get a valid signature, and the restarted signer must be back in the coordinator's random
 * quorums soon: the deployment must not run on without its spare.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { deploy } from '../deploy.js';
import { okFigure, startLoad, summarize, usedParticipant } from '../load.js';
import { Rng } from '../rng.js';
import { target, type Scenario } from '../scenario.js';
import { pct, sleep } from '../stats.js';

export interface SignerRestartedParams {
  concurrency: number;
  /** Load before the kill. */
  killAfterMs: number;
  /** Time the signer stays down. */
  downMs: number;
  /** Load after the restart. */
  observeMs: number;
  /** Target: back in a quorum within this long after it is ready again. */
  rejoinBoundMs: number;
}

export const signerRestarted: Scenario<SignerRestartedParams> = {
  id: 'signer-restarted',
  title: 'a signer killed and restarted on the same port under load',
  full: { concurrency: 4, killAfterMs: 3000, downMs: 3000, observeMs: 30_000, rejoinBoundMs: 10_000 },
  short: { concurrency: 4, killAfterMs: 1500, downMs: 2000, observeMs: 13_000, rejoinBoundMs: 10_000 },
  async run(p, ctx) {
    const d = await deploy('restarted', ctx);
    try {
      const victim = new Rng(ctx.seed).pick(d.env.signers);
      const id = d.participantOf(victim.id);
      const load = startLoad(d.target, { concurrency: p.concurrency });
      await sleep(p.killAfterMs);
      await d.cluster.signers.find((s) => s.name === victim.id)!.stop('SIGKILL');
      ctx.log(`${victim.id} killed`);
      await sleep(p.downMs);
      await d.cluster.restartSigner(victim.id);
      const readyAt = performance.now();
      ctx.log(`${victim.id} ready again on the same port`);
      await sleep(p.observeMs);
      const records = await load.stop();
      const s = summarize(records);
      const later = records.filter((r) => r.startedAt >= readyAt).sort((a, b) => a.startedAt + a.latencyMs - (b.startedAt + b.latencyMs));
      const first = later.find((r) => usedParticipant(r, id));
      const rejoinMs = first ? first.startedAt + first.latencyMs - readyAt : Infinity;
      const used = later.filter((r) => usedParticipant(r, id)).length;
      const okLater = later.filter((r) => r.status === 200).length;
      const rejoin = first ? `back in a quorum ${(rejoinMs / 1000).toFixed(2)} s after restart` : `never back in a quorum`;
      return {
        figure: `${okFigure(s)}, ${s.invalid} invalid; ${victim.id} ${rejoin}, in ${used} of ${okLater} signatures after restart (${pct(used, okLater)})`,
        targets: [
          target('success ratio', s.successRatio * 100, '>=', 100, '%'),
          target('invalid signatures', s.invalid, '==', 0),
          target('rejoin time', rejoinMs, '<=', p.rejoinBoundMs, ' ms'),
        ],
        details: { victim: victim.id, participant: id, all: s, rejoinMs: first ? rejoinMs : null, signaturesAfterRestart: okLater, withRestartedSigner: used, breakerEvents: d.breakerEvents.filter((e) => e.signer === victim.id).map((e) => e.state) },
      };
    } finally {
      await d.close();
    }
  },
};
