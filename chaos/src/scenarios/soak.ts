/**
 * Scenario 9: constant signing load for a long time, the resident memory of every process sampled
 * from /proc. After warm-up memory must not trend upwards: the least-squares slope of the memory
 * floor (the lowest sample of each of a few equal windows, so that the garbage collector's sawtooth
 * does not read as a trend) over the second half of the run (at CI size, the whole short run) stays
 * under a bound, in MB per minute. A burst of unpaced load first brings the heaps near their working
 * size, which otherwise takes a minute or more of paced load.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { deploy } from '../deploy.js';
import { okFigure, startLoad, summarize } from '../load.js';
import { target, type Scenario } from '../scenario.js';
import { slope, windowMinima } from '../stats.js';

export interface SoakParams {
  /** Unpaced load before the measured run (not part of the figures). */
  warmupMs: number;
  durationMs: number;
  /** Requests per second. */
  rate: number;
  concurrency: number;
  sampleMs: number;
  /** The slope is fitted from this fraction of the measured run on (the rest is warm-up). */
  fitFrom: number;
  /** Windows of the fitted span whose minima the slope is fitted to. */
  windows: number;
  /** Target: the slope of every process's memory floor over the fitted span at most this. */
  boundMbPerMin: number;
}

const MB = 1024 * 1024;

export const soak: Scenario<SoakParams> = {
  id: 'soak',
  title: 'constant load, resident memory of every process sampled',
  full: { warmupMs: 10_000, durationMs: 30 * 60_000, rate: 50, concurrency: 4, sampleMs: 2000, fitFrom: 0.5, windows: 5, boundMbPerMin: 1 },
  short: { warmupMs: 15_000, durationMs: 30_000, rate: 50, concurrency: 4, sampleMs: 250, fitFrom: 0, windows: 3, boundMbPerMin: 150 },
  async run(p, ctx) {
    const d = await deploy('soak', ctx);
    try {
      await startLoad(d.target, { concurrency: p.concurrency * 2, durationMs: p.warmupMs }).done;
      const processes = [d.cluster.coordinator, ...d.cluster.signers];
      const samples = new Map(processes.map((s) => [s.name, [] as { x: number; y: number }[]]));
      const t0 = performance.now();
      const sample = () => {
        const x = (performance.now() - t0) / 60_000;
        for (const s of processes) {
          const rss = s.rssBytes();
          if (rss !== undefined) samples.get(s.name)!.push({ x, y: rss / MB });
        }
      };
      sample();
      const sampler = setInterval(sample, p.sampleMs);
      const progress = setInterval(() => ctx.log(`${Math.round((performance.now() - t0) / 1000)} s`), 60_000);
      const records = await startLoad(d.target, { concurrency: p.concurrency, rate: p.rate, durationMs: p.durationMs }).done;
      clearInterval(sampler);
      clearInterval(progress);
      sample();
      const s = summarize(records);
      const from = ((performance.now() - t0) / 60_000) * p.fitFrom;
      const per = processes.map((proc) => {
        const pts = samples.get(proc.name)!;
        return {
          name: proc.name,
          slopeMbPerMin: Math.round(slope(windowMinima(pts.filter((pt) => pt.x >= from), p.windows)) * 1000) / 1000,
          firstMb: Math.round(pts[0]?.y ?? NaN),
          lastMb: Math.round(pts[pts.length - 1]?.y ?? NaN),
          peakMb: Math.round(Math.max(...pts.map((pt) => pt.y))),
          samples: pts.length,
        };
      });
      return {
        figure: `${okFigure(s)}, ${s.invalid} invalid over ${Math.round(p.durationMs / 1000)} s at ${p.rate}/s; RSS floor slope${p.fitFrom ? ' over the second half' : ''} (MB/min): ${per.map((x) => `${x.name} ${x.slopeMbPerMin.toFixed(2)} (${x.firstMb}→${x.lastMb} MB)`).join(', ')}`,
        targets: [
          target('success ratio', s.successRatio * 100, '>=', 100, '%'),
          target('invalid signatures', s.invalid, '==', 0),
          ...per.map((x) => target(`${x.name} RSS slope`, x.slopeMbPerMin, '<=', p.boundMbPerMin, ' MB/min')),
        ],
        details: { all: s, processes: per, series: Object.fromEntries([...samples].map(([k, v]) => [k, v.map((pt) => [Math.round(pt.x * 6000) / 100, Math.round(pt.y * 10) / 10])])) },
      };
    } finally {
      await d.close();
    }
  },
};
