/**
 * Scenario 8: a hostile caller opens more connections than the coordinator has request slots and
 * sends each request's body a byte at a time (re-opening any connection the coordinator closes),
 * while a normal caller signs. The normal caller must not notice.
 * @module
 */
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { CallerIdentity } from '@hoarfrost/testkit';
import { metricValue } from '@hoarfrost/testkit/support';
import { deploy } from '../deploy.js';
import { withHostileCaller } from '../hostile.js';
import { okFigure, startLoad, summarize } from '../load.js';
import { target, type Scenario } from '../scenario.js';
import { max, sleep, waitFor } from '../stats.js';

export interface SlowBodiesParams {
  /** Slow connections kept open (the coordinator's default MAX_IN_FLIGHT is 256). */
  connections: number;
  declaredBytes: number;
  byteIntervalMs: number;
  durationMs: number;
  normalConcurrency: number;
}

interface SlowStats {
  opened: number;
  /** Headers sent: the request is the server's to handle. */
  started: number;
  answers: Record<string, number>;
  closed: number;
  maxHeldMs: number;
}

/** Keeps `n` slow requests open against `url` until stopped. */
function slowLoris(url: string, caFile: string, id: CallerIdentity, p: SlowBodiesParams) {
  const u = new URL(url);
  const tlsOptions = { host: u.hostname, port: Number(u.port), ca: readFileSync(caFile), cert: readFileSync(id.certFile), key: readFileSync(id.keyFile) };
  const stats: SlowStats = { opened: 0, started: 0, answers: {}, closed: 0, maxHeldMs: 0 };
  /** Open connections and when each was opened. */
  const sockets = new Map<TLSSocket, number>();
  let running = true;
  const head = `POST /sign HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${p.declaredBytes}\r\n\r\n{"msg_b64":"`;
  const open = () => {
    const sock = connect(tlsOptions);
    const openedAt = performance.now();
    sockets.set(sock, openedAt);
    stats.opened++;
    let timer: NodeJS.Timeout | undefined;
    let answered = false;
    sock.once('secureConnect', () => {
      sock.write(head);
      stats.started++;
      timer = setInterval(() => sock.write('A'), p.byteIntervalMs);
    });
    sock.on('data', (chunk: Buffer) => {
      if (answered) return;
      answered = true;
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 'unparsable';
      stats.answers[status] = (stats.answers[status] ?? 0) + 1;
    });
    sock.on('error', () => {});
    sock.once('close', () => {
      clearInterval(timer);
      sockets.delete(sock);
      stats.closed++;
      stats.maxHeldMs = Math.max(stats.maxHeldMs, performance.now() - openedAt);
      if (running) open();
    });
  };
  return {
    stats,
    /** The longest time a slow request was held open, those still open included. */
    longestHeldMs() {
      const now = performance.now();
      return Math.max(stats.maxHeldMs, ...[...sockets.values()].map((t) => now - t));
    },
    async start() {
      for (let i = 0; i < p.connections; i++) {
        open();
        if (i % 25 === 24) await sleep(50);
      }
    },
    stop() {
      running = false;
      for (const s of sockets.keys()) s.destroy();
    },
  };
}

export const slowBodies: Scenario<SlowBodiesParams> = {
  id: 'slow-bodies',
  title: 'a caller holding many connections with slowly sent bodies while another signs',
  full: { connections: 300, declaredBytes: 1024, byteIntervalMs: 1000, durationMs: 30_000, normalConcurrency: 4 },
  short: { connections: 300, declaredBytes: 1024, byteIntervalMs: 1000, durationMs: 8000, normalConcurrency: 4 },
  async run(p, ctx) {
    let hostile: CallerIdentity | undefined;
    const d = await deploy('slow', ctx, async (env) => {
      const h = await withHostileCaller(env);
      hostile = h.hostile;
      return h.options;
    });
    const loris = slowLoris(d.cluster.url, d.env.caFile, hostile!, p);
    try {
      await loris.start();
      await waitFor(() => loris.stats.started >= p.connections, 30_000, 'the slow connections').catch(() => {});
      ctx.log(`${loris.stats.started} slow requests started`);
      await sleep(300);
      const inFlight: number[] = [];
      const sampler = setInterval(() => {
        d.metrics().then((text) => inFlight.push(metricValue(text, 'frost_coordinator_in_flight')), () => {});
      }, 500);
      const records = await startLoad(d.target, { concurrency: p.normalConcurrency, durationMs: p.durationMs }).done;
      clearInterval(sampler);
      const s = summarize(records);
      const st = { ...loris.stats, maxHeldMs: loris.longestHeldMs() };
      return {
        figure: `normal: ${okFigure(s)}, ${s.invalid} invalid; hostile: ${p.connections} slow bodies held open (${st.opened} connections opened, answers ${JSON.stringify(st.answers)}, longest held ${(st.maxHeldMs / 1000).toFixed(1)} s); coordinator in flight up to ${max(inFlight)}`,
        targets: [target('normal caller success ratio', s.successRatio * 100, '>=', 100, '%'), target('invalid signatures', s.invalid, '==', 0)],
        details: { normal: s, hostile: { ...st, maxHeldMs: Math.round(st.maxHeldMs) }, maxInFlight: max(inFlight) },
      };
    } finally {
      loris.stop();
      await d.close();
    }
  },
};
