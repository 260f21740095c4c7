/**
 * Scenario 4: a compromised signer host. A man-in-the-middle proxy holding one signer's certificate
 * and key sits between the coordinator and that signer and corrupts the share of every round-2
 * answer. Callers must still get valid signatures every time, and the cheater must be named every
 * time one of its shares was used: in the culprits metric and, for requests that pinned it (they
 * cannot succeed), in the error body.
 * @module
 */
import { startCheatingSigner, type CheatingSigner } from '@hoarfrost/testkit';
import { deploy } from '../deploy.js';
import { okFigure, outcomeKey, startLoad, summarize } from '../load.js';
import { Rng } from '../rng.js';
import { target, type Scenario } from '../scenario.js';
import { pct, tally } from '../stats.js';

export interface CheatingSignerParams {
  requests: number;
  concurrency: number;
  /** Every n-th request pins the cheater and one honest signer. */
  probeEvery: number;
  /** COORDINATOR_BREAKER_COOLDOWN_MS: short, so that the coordinator tries the cheater again often. */
  cooldownMs: number;
}

export const cheatingSigner: Scenario<CheatingSignerParams> = {
  id: 'cheating-signer',
  title: 'a signer behind a proxy that corrupts its signature shares',
  full: { requests: 550, concurrency: 4, probeEvery: 11, cooldownMs: 1000 },
  short: { requests: 165, concurrency: 4, probeEvery: 11, cooldownMs: 1000 },
  async run(p, ctx) {
    const rng = new Rng(ctx.seed);
    let proxy: CheatingSigner | undefined;
    let cheaterId = '';
    const d = await deploy('cheating', ctx, (env) => {
      const cheater = rng.pick(env.signers);
      cheaterId = cheater.id;
      return {
        coordinatorExtraEnv: { COORDINATOR_BREAKER_COOLDOWN_MS: String(p.cooldownMs) },
        coordinatorSignerUrls: async (urls) => {
          proxy = await startCheatingSigner(env, cheater, urls[cheater.id]!);
          return { ...urls, [cheater.id]: proxy.url };
        },
      };
    });
    try {
      const cheater = d.participantOf(cheaterId);
      const honest = d.env.signers.filter((s) => s.id !== cheaterId).map((s) => d.participantOf(s.id));
      const load = startLoad(d.target, {
        concurrency: p.concurrency,
        requests: p.requests,
        extra: (i) => (i % p.probeEvery === p.probeEvery - 1 ? { participants: [cheater, honest[i % honest.length]!] } : {}),
      });
      const records = await load.done;
      await new Promise((r) => setTimeout(r, 200));
      const normal = summarize(records.filter((r) => !r.pinned));
      const probes = records.filter((r) => r.pinned);
      const culpritsOf = (r: (typeof records)[number]) => ((r.json?.error as { culprits?: unknown[] } | undefined)?.culprits ?? []) as unknown[];
      const probesNamed = probes.filter((r) => culpritsOf(r).includes(cheater)).length;
      const named = await d.metric('frost_coordinator_culprits_total', { signer: cheaterId });
      const corrupted = proxy!.corrupted;
      const invalid = records.filter((r) => r.status === 200 && r.valid !== true).length;
      return {
        figure: `${okFigure(normal)} unpinned, ${invalid} invalid; ${cheaterId} used ${corrupted} times, named ${named} times (${pct(named, corrupted)}); pinned to it: ${probesNamed}/${probes.length} refused naming it`,
        targets: [
          target('success ratio (unpinned)', normal.successRatio * 100, '>=', 100, '%'),
          target('invalid signatures', invalid, '==', 0),
          target('cheater named per use', corrupted ? (100 * named) / corrupted : 0, '>=', 100, '%'),
          target('pinned requests naming the cheater', probes.length ? (100 * probesNamed) / probes.length : 0, '>=', 100, '%'),
        ],
        details: { cheater: cheaterId, participant: cheater, unpinned: normal, probes: tally(probes.map(outcomeKey)), corruptedShares: corrupted, culpritsMetric: named, forwarded: proxy!.forwarded, breakerEvents: d.breakerEvents.filter((e) => e.signer === cheaterId).length },
      };
    } finally {
      await d.close();
      await proxy?.close();
    }
  },
};
