/**
 * The relay's benchmark (standalone: `npx tsc -b bench && node bench/dist/relay-bench.js`), results in
 * bench/RELAY.md:
 *
 * 1. Push latency: the time from a member starting its /send to the coordinator's WebSocket receiving the
 *    message, on loopback, against the relay as a real process (memory store), and against two processes
 *    sharing a Redis-protocol server (sender on one, subscriber on the other); long polling
 *    (`wait_ms`) the same way; frostd's 2 s polling interval for comparison.
 * 2. 1,000 concurrent sessions with bounded memory: 1,000 sessions of 3 members, a push connection per
 *    session, 3 KiB waiting in each; the relay's resident memory before, with them, after closing them,
 *    over several rounds (a leak would grow round after round); the session bound refusing the next one.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayClient, RelayRequestError, newIdentity, type PushSubscription } from '@hoarfrost/relay/client';
import { createCertificateAuthority, findRedisServer, issueRelayCertificate, startRedisServer, startRelay, type RelayProcess, type RelayTls } from '@hoarfrost/testkit';
import { percentile } from './stats.js';

const SAMPLES = Number(process.env.RELAY_BENCH_SAMPLES ?? 2000);
const SESSIONS = Number(process.env.RELAY_BENCH_SESSIONS ?? 1000);
const ROUNDS = Number(process.env.RELAY_BENCH_ROUNDS ?? 3);

const UNLIMITED: Record<string, string> = {
  RELAY_RATE_CHALLENGE_PER_MINUTE: '1000000',
  RELAY_RATE_CHALLENGE_BURST: '1000000',
  RELAY_RATE_CREATE_SESSION_PER_MINUTE: '1000000',
  RELAY_RATE_CREATE_SESSION_BURST: '1000000',
  RELAY_RATE_OTHER_PER_MINUTE: '1000000',
  RELAY_RATE_OTHER_BURST: '1000000',
  RELAY_CONCURRENT_PER_ADDRESS: '100000',
  // The testkit waits for the 'relay ready' line (info).
  RELAY_LOG_LEVEL: 'info',
};

const ms = (ns: bigint) => Number(ns) / 1e6;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const mib = (b: number | undefined) => (b === undefined ? 'n/a' : `${(b / 1024 / 1024).toFixed(1)} MiB`);

async function tls(): Promise<RelayTls & { caPem: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  const ca = await createCertificateAuthority('relay bench CA');
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  return { ...(await issueRelayCertificate(ca, dir, join(dir, 'ca.pem'))), caPem: ca.certPem };
}

async function client(url: string, caPem: string): Promise<RelayClient> {
  const c = new RelayClient({ url, ca: caPem, identity: newIdentity(), timeoutMs: 60_000 });
  await c.login();
  return c;
}

interface Latency {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  n: number;
}
const summary = (xs: number[]): Latency => ({ p50: percentile(xs, 50), p90: percentile(xs, 90), p99: percentile(xs, 99), max: Math.max(...xs), n: xs.length });

/** send → push frame, and send → long-poll answer, `SAMPLES` times each (after a warm-up). */
async function latency(senderUrl: string, receiverUrl: string, caPem: string): Promise<{ push: Latency; longPoll: Latency; sendRtt: Latency }> {
  const coordinator = await client(receiverUrl, caPem);
  const member = await client(senderUrl, caPem);
  const id = await coordinator.createNewSession([member.pubkey]);
  const sub = await coordinator.subscribe();
  const push: number[] = [];
  const rtt: number[] = [];
  const msg = Buffer.alloc(512, 7);
  for (let i = 0; i < SAMPLES + 100; i++) {
    const t0 = process.hrtime.bigint();
    const frame = sub.next((f) => f.type === 'message', 10_000);
    await member.send(id, [], msg);
    const t1 = process.hrtime.bigint();
    await frame;
    const t2 = process.hrtime.bigint();
    if (i >= 100) {
      push.push(ms(t2 - t0));
      rtt.push(ms(t1 - t0));
    }
  }
  sub.close();
  await sleep(200);
  const longPoll: number[] = [];
  for (let i = 0; i < Math.min(SAMPLES, 500) + 50; i++) {
    const waiting = coordinator.receive(id, true, 10_000).then(() => process.hrtime.bigint());
    // The poll is waiting on the relay before the message is sent.
    await sleep(2);
    const t0 = process.hrtime.bigint();
    await member.send(id, [], msg);
    const t1 = await waiting;
    if (i >= 50) longPoll.push(ms(t1 - t0));
  }
  await coordinator.closeSession(id);
  coordinator.close();
  member.close();
  return { push: summary(push), longPoll: summary(longPoll), sendRtt: summary(rtt) };
}

/** The relay's V8 heap in use, from its own metrics. */
async function heapUsed(relay: RelayProcess): Promise<number | undefined> {
  const text = await (await fetch(`${relay.opsUrl}/metrics`)).text();
  const m = /^nodejs_heap_size_used_bytes (\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

interface MemoryRound {
  round: number;
  idleRss?: number;
  withSessionsRss?: number;
  afterCloseRss?: number;
  idleHeap?: number;
  withSessionsHeap?: number;
  afterCloseHeap?: number;
  setupSeconds: number;
  deliveredMs: number;
  refusedBeyondBound: string;
}

/** Sessions of `SESSIONS`: 3 members each, one push connection per session, 3 × 1 KiB queued per session. */
async function concurrentSessions(relay: RelayProcess, caPem: string): Promise<{ rounds: MemoryRound[]; connectionsRss?: number }> {
  const rounds: MemoryRound[] = [];
  // Identities are reused across rounds (as users come back); sessions and connections are new each round.
  const coordinators = await Promise.all(Array.from({ length: Math.ceil(SESSIONS / 50) }, () => client(relay.url, caPem)));
  const subscribers = await Promise.all(Array.from({ length: SESSIONS }, () => client(relay.url, caPem)));
  let connectionsRss: number | undefined;
  for (let round = 1; round <= ROUNDS; round++) {
    global.gc?.();
    await sleep(500);
    const idleRss = relay.rssBytes();
    const idleHeap = await heapUsed(relay);
    const started = Date.now();
    const subs: PushSubscription[] = [];
    for (let i = 0; i < SESSIONS; i += 100) subs.push(...(await Promise.all(subscribers.slice(i, i + 100).map((s) => s.subscribe(60_000)))));
    if (round === 1) connectionsRss = relay.rssBytes();
    const ids: string[] = [];
    for (let i = 0; i < SESSIONS; i += 50) {
      const batch = await Promise.all(
        subscribers.slice(i, i + 50).map((s, j) => coordinators[Math.floor((i + j) / 50)]!.createNewSession([s.pubkey, randomBytes(32).toString('hex'), randomBytes(32).toString('hex')])),
      );
      ids.push(...batch);
    }
    // The session bound: one more is refused, whoever asks.
    const refused = await coordinators[0]!.createNewSession([]).then(
      () => 'accepted (bound not reached)',
      (e: unknown) => (e instanceof RelayRequestError ? `${e.status} ${e.reason}` : String(e)),
    );
    // 3 × 1 KiB for the member without a push connection (they stay queued), then 1 KiB pushed to each subscriber.
    for (let i = 0; i < SESSIONS; i += 100) {
      await Promise.all(
        ids.slice(i, i + 100).map(async (id, j) => {
          const info = await subscribers[i + j]!.getSessionInfo(id);
          const idle = info.pubkeys[1]!;
          for (let k = 0; k < 3; k++) await coordinators[Math.floor((i + j) / 50)]!.send(id, [idle], Buffer.alloc(1024, k));
        }),
      );
    }
    const t0 = Date.now();
    const arrived = subs.map((s) => s.next((f) => f.type === 'message', 60_000));
    for (let i = 0; i < SESSIONS; i += 100) await Promise.all(ids.slice(i, i + 100).map((id, j) => coordinators[Math.floor((i + j) / 50)]!.send(id, [subscribers[i + j]!.pubkey], Buffer.alloc(1024, 9))));
    await Promise.all(arrived);
    const deliveredMs = Date.now() - t0;
    const setupSeconds = (Date.now() - started) / 1000;
    await sleep(500);
    const withSessionsRss = relay.rssBytes();
    const withSessionsHeap = await heapUsed(relay);
    for (let i = 0; i < SESSIONS; i += 100) await Promise.all(ids.slice(i, i + 100).map((id, j) => coordinators[Math.floor((i + j) / 50)]!.closeSession(id)));
    for (const s of subs) s.close();
    // Closed sessions leave after the grace (set to 1 s here).
    await sleep(2500);
    rounds.push({ round, idleRss, withSessionsRss, afterCloseRss: relay.rssBytes(), idleHeap, withSessionsHeap, afterCloseHeap: await heapUsed(relay), setupSeconds, deliveredMs, refusedBeyondBound: refused });
    console.error(`round ${round}: ${JSON.stringify(rounds.at(-1))}`);
  }
  for (const c of [...coordinators, ...subscribers]) c.close();
  return { rounds, connectionsRss };
}

const t = await tls();
const out: Record<string, unknown> = { samples: SAMPLES, sessions: SESSIONS, node: process.version };

const memRelay = await startRelay(t, { env: { ...UNLIMITED } });
console.error('latency, memory store ...');
out.memory = await latency(memRelay.url, memRelay.url, t.caPem);
await memRelay.stop();

const bin = findRedisServer();
if (bin) {
  const redis = await startRedisServer(bin);
  const env = { ...UNLIMITED, RELAY_STORE: 'redis', RELAY_REDIS_URL: redis.url };
  const [a, b] = [await startRelay(t, { env }), await startRelay(t, { env })];
  console.error('latency, Redis store, two replicas ...');
  out.redis = await latency(a.url, b.url, t.caPem);
  await a.stop();
  await b.stop();
  await redis.stop();
} else {
  console.error('!!! no valkey-server or redis-server: the Redis-protocol figures are skipped !!!');
}

const bounded = await startRelay(t, {
  env: { ...UNLIMITED, RELAY_MAX_SESSIONS: String(SESSIONS), RELAY_MAX_SESSIONS_PER_USER: '50', RELAY_CLOSED_SESSION_GRACE_SECONDS: '1' },
});
console.error(`${SESSIONS} concurrent sessions ...`);
out.concurrent = await concurrentSessions(bounded, t.caPem);
await bounded.stop();

const row = (name: string, l: Latency) => `| ${name} | ${l.p50.toFixed(2)} ms | ${l.p90.toFixed(2)} ms | ${l.p99.toFixed(2)} ms | ${l.max.toFixed(1)} ms | ${l.n} |`;
const lines = ['| path | p50 | p90 | p99 | max | samples |', '| --- | --- | --- | --- | --- | --- |'];
const lat = (key: 'memory' | 'redis', label: string) => {
  const r = out[key] as { push: Latency; longPoll: Latency; sendRtt: Latency } | undefined;
  if (!r) return;
  lines.push(row(`${label}: /send → WebSocket frame`, r.push), row(`${label}: /send → long-poll answer`, r.longPoll), row(`${label}: /send round trip alone`, r.sendRtt));
};
lat('memory', 'memory store');
lat('redis', 'Redis store, 2 replicas');
const c = out.concurrent as { rounds: MemoryRound[]; connectionsRss?: number };
lines.push(
  '',
  '| round | RSS (heap used) before | with the sessions, queues and push connections | after closing them | 1 KiB pushed to every subscriber | one session beyond the bound |',
  '| --- | --- | --- | --- | --- | --- |',
);
for (const r of c.rounds) {
  lines.push(`| ${r.round} | ${mib(r.idleRss)} (${mib(r.idleHeap)}) | ${mib(r.withSessionsRss)} (${mib(r.withSessionsHeap)}) | ${mib(r.afterCloseRss)} (${mib(r.afterCloseHeap)}) | ${r.deliveredMs} ms | ${r.refusedBeyondBound} |`);
}
console.log(lines.join('\n'));
console.log('\n' + JSON.stringify(out, null, 2));
process.exit(0);
