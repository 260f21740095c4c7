/**
 * Scenario 7: a hostile caller sends messages above the signers' limit — a burst alone, then in a
 * loop while a normal caller signs. The hostile caller must get a 4xx (413) — its request's shape is its own fault, not
 * the signers' — the normal caller must not notice, and no circuit breaker may open.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { CallerIdentity } from '@hoarfrost/testkit';
import { metricValue } from '@hoarfrost/testkit/support';
import { callerAgent, sign, type SignOutcome } from '../client.js';
import { deploy } from '../deploy.js';
import { withHostileCaller } from '../hostile.js';
import { okFigure, outcomeKey, startLoad, summarize } from '../load.js';
import { target, type Scenario } from '../scenario.js';
import { max, pct, sleep, tally } from '../stats.js';

export interface OversizedMessagesParams {
  /** Oversized requests sent alone first: then the normal caller starts, as someone arriving next. */
  burst: number;
  /** Both callers at once. */
  durationMs: number;
  /** The normal caller goes on this long after the hostile one stops. */
  tailMs: number;
  messageBytes: number;
  hostileConcurrency: number;
  normalConcurrency: number;
}

export const oversizedMessages: Scenario<OversizedMessagesParams> = {
  id: 'oversized-messages',
  title: 'a caller sending messages above the limit while another signs',
  full: { burst: 10, durationMs: 30_000, tailMs: 5000, messageBytes: 200 * 1024, hostileConcurrency: 2, normalConcurrency: 4 },
  short: { burst: 10, durationMs: 6000, tailMs: 2000, messageBytes: 200 * 1024, hostileConcurrency: 2, normalConcurrency: 4 },
  async run(p, ctx) {
    let hostile: CallerIdentity | undefined;
    const d = await deploy('oversized', ctx, async (env) => {
      const h = await withHostileCaller(env);
      hostile = h.hostile;
      return h.options;
    });
    const hostileAgent = callerAgent(d.env, { cert: hostile! });
    try {
      // Breaker states sampled from /metrics as well as read from the log.
      const breakerSamples: number[] = [];
      const sampler = setInterval(() => {
        d.metrics().then(
          (text) => breakerSamples.push(...d.env.signers.map((s) => metricValue(text, 'frost_coordinator_signer_breaker_state', { signer: s.id }))),
          () => {},
        );
      }, 250);
      const hostileRecords: SignOutcome[] = [];
      const oversized = async () => hostileRecords.push(await sign({ agent: hostileAgent, url: d.cluster.url, groupKey: d.groupKey }, randomBytes(p.messageBytes)));
      while (hostileRecords.length < p.burst) await Promise.all(Array.from({ length: Math.min(p.hostileConcurrency, p.burst - hostileRecords.length) }, oversized));
      const normal = startLoad(d.target, { concurrency: p.normalConcurrency, durationMs: p.durationMs + p.tailMs });
      let sending = true;
      const attacker = async () => {
        while (sending) await oversized();
      };
      const attackers = Array.from({ length: p.hostileConcurrency }, attacker);
      await sleep(p.durationMs);
      sending = false;
      await Promise.all(attackers);
      const records = await normal.done;
      clearInterval(sampler);
      const s = summarize(records);
      const refused413 = hostileRecords.filter((r) => r.status === 413).length;
      const openings = Math.max(d.breakerOpenings(), breakerSamples.some((v) => v === 2) ? 1 : 0);
      return {
        figure: `hostile: ${refused413}/${hostileRecords.length} answered 413 (${pct(refused413, hostileRecords.length)}); normal: ${okFigure(s)}, ${s.invalid} invalid; ${openings} breaker openings`,
        targets: [
          target('oversized requests answered 413', hostileRecords.length ? (100 * refused413) / hostileRecords.length : 0, '>=', 100, '%'),
          target('normal caller success ratio', s.successRatio * 100, '>=', 100, '%'),
          target('invalid signatures', s.invalid, '==', 0),
          target('breaker openings', openings, '==', 0),
        ],
        details: { hostile: tally(hostileRecords.map(outcomeKey)), normal: s, breakerEvents: d.breakerEvents.map((e) => `${e.signer}:${e.state}`), maxBreakerState: max(breakerSamples) },
      };
    } finally {
      await hostileAgent.destroy();
      await d.close();
    }
  },
};
