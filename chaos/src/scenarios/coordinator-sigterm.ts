/**
 * Scenario 5: the coordinator gets SIGTERM (a rolling update) while callers keep kept-alive
 * connections busy and keep sending — including requests sent 16–64 ms after the signal on
 * connections that were idle. Every request must get an answer (a signature, or 503 SHUTTING_DOWN):
 * no connection may be reset or closed under a request.
 *
 * Callers reach a pod through a load balancer, which stops sending it new connections a while after
 * its readiness fails (the drain delay exists for that time). Each caller here has one connection of
 * its own and plays that part: for `newConnectionsForMs` after SIGTERM it may open new connections
 * (still routed here); after that it only uses the connection it has, and stops once the coordinator
 * has closed it. Connections refused once the listener has closed are counted apart.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import { callerTls, sign, type SignOutcome } from '../client.js';
import { deploy } from '../deploy.js';
import { outcomeKey } from '../load.js';
import { target, type Scenario, type ScenarioContext } from '../scenario.js';
import { sleep, tally } from '../stats.js';

export interface CoordinatorSigtermParams {
  runs: number;
  concurrency: number;
  warmMs: number;
  /** Single requests sent this long after SIGTERM, each on an idle kept-alive connection. */
  probeDelaysMs: number[];
  /**
   * COORDINATOR_SHUTDOWN_DELAY_MS: how long the coordinator keeps serving after SIGTERM while load
   * balancers stop routing to it (the chart's default is 5 s).
   */
  shutdownDelayMs: number;
  /** How long after SIGTERM new connections still reach the coordinator (less than the delay). */
  newConnectionsForMs: number;
}

interface RunResult {
  outcomes: Record<string, number>;
  probes: Record<string, number>;
  resets: number;
  unanswered: number;
  refused: number;
  exitCode: number | null;
  exitMs: number;
  /** /readyz of the ops port just after SIGTERM (503 expected: readiness fails first). */
  readyzAfterTerm: number | string;
  examples: string[];
}

const answered = (r: SignOutcome) => r.status === 200 || (r.status === 503 && r.code === 'SHUTTING_DOWN');

async function oneRun(p: CoordinatorSigtermParams, ctx: ScenarioContext): Promise<RunResult> {
  const d = await deploy('sigterm', ctx, () => ({ coordinatorExtraEnv: { COORDINATOR_SHUTDOWN_DELAY_MS: String(p.shutdownDelayMs) } }));
  const tls = callerTls(d.env);
  // One kept-alive connection per caller and per probe.
  const clients = Array.from({ length: p.concurrency + p.probeDelaysMs.length }, () => new Client(d.cluster.url, { connect: tls, keepAliveTimeout: 60_000 }));
  try {
    const records: SignOutcome[] = [];
    const msg = () => randomBytes(32);
    const via = (client: Client) => ({ ...d.target, agent: client });
    await Promise.all(clients.map((c) => sign(via(c), msg())));
    let termAt = Infinity;
    let sending = true;
    const routedHere = () => performance.now() - termAt < p.newConnectionsForMs;
    const caller = async (client: Client) => {
      let closed = false;
      while (sending && (!closed || routedHere())) {
        const r = await sign(via(client), msg());
        records.push(r);
        closed = r.connectionClose === true || r.failure !== undefined;
        if (r.failure === 'refused') break; // the listener is closed: nothing more to send to
      }
    };
    const callers = clients.slice(0, p.concurrency).map(caller);
    await sleep(p.warmMs);
    const coordinator = d.cluster.coordinator;
    termAt = performance.now();
    coordinator.child.kill('SIGTERM');
    const readyz = sleep(10).then(() => fetch(`${d.cluster.opsUrl}/readyz`).then((r) => r.status, (e: Error) => e.message));
    const probes = await Promise.all(
      p.probeDelaysMs.map(async (ms, i) => {
        await sleep(ms - (performance.now() - termAt));
        return sign(via(clients[p.concurrency + i]!), msg());
      }),
    );
    const exitCode = await Promise.race([coordinator.exited, sleep(30_000).then(() => 'timeout' as const)]);
    const exitMs = performance.now() - termAt;
    sending = false;
    await Promise.all(callers);
    const affected = [...records.filter((r) => r.startedAt + r.latencyMs >= termAt), ...probes];
    const lost = affected.filter((r) => !answered(r) && r.failure !== 'refused');
    return {
      outcomes: tally(affected.map(outcomeKey)),
      probes: tally(probes.map(outcomeKey)),
      resets: affected.filter((r) => r.failure === 'reset').length,
      unanswered: lost.length,
      refused: affected.filter((r) => r.failure === 'refused').length,
      exitCode: exitCode === 'timeout' ? null : exitCode,
      exitMs: Math.round(exitMs),
      readyzAfterTerm: await readyz,
      examples: lost.slice(0, 5).map((r) => `${Math.round(r.startedAt - termAt)} ms after SIGTERM: ${r.failureDetail ?? outcomeKey(r)}`),
    };
  } finally {
    await Promise.all(clients.map((c) => c.destroy()));
    await d.close();
  }
}

export const coordinatorSigterm: Scenario<CoordinatorSigtermParams> = {
  id: 'coordinator-sigterm',
  title: 'coordinator SIGTERM under load on kept-alive connections',
  full: { runs: 3, concurrency: 16, warmMs: 2000, probeDelaysMs: [16, 24, 32, 40, 48, 56, 64], shutdownDelayMs: 5000, newConnectionsForMs: 2500 },
  short: { runs: 1, concurrency: 16, warmMs: 1000, probeDelaysMs: [16, 24, 32, 40, 48, 56, 64], shutdownDelayMs: 1000, newConnectionsForMs: 500 },
  async run(p, ctx) {
    const runs: RunResult[] = [];
    for (let i = 0; i < p.runs; i++) {
      runs.push(await oneRun(p, ctx));
      ctx.log(`run ${i + 1}: ${JSON.stringify(runs[i]!.outcomes)}`);
    }
    const sum = (f: (r: RunResult) => number) => runs.reduce((s, r) => s + f(r), 0);
    const resets = sum((r) => r.resets);
    const unanswered = sum((r) => r.unanswered);
    const affected = sum((r) => Object.values(r.outcomes).reduce((a, b) => a + b, 0));
    return {
      figure: `${resets} connection resets, ${unanswered} requests without an answer of ${affected} in flight or sent after SIGTERM (${runs.length} runs; per run: ${runs.map((r) => r.resets).join(', ')} resets; refused after close: ${runs.map((r) => r.refused).join(', ')})`,
      targets: [target('connection resets', resets, '==', 0), target('requests without a 200 or 503 SHUTTING_DOWN', unanswered, '==', 0)],
      details: { runs },
    };
  },
};
