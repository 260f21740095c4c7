/**
 * Scenario 6: fuzzing. Seeded random and mutated requests on the coordinator's public API (see
 * fuzz/api.ts), then on one signer's RPC port with a valid client certificate (fuzz/rpc.ts), while
 * every signer is up. Target: no 5xx anywhere, every process still running and signing afterwards.
 * The seed is printed; the same seed replays the same requests (on the RPC port, given the same
 * answers: later cases use the commitments earlier ones obtained).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request, type Dispatcher } from 'undici';
import { RpcTokenSigner, decodeCbor, loadEd25519PrivateKey, RPC_PATHS } from '@hoarfrost/rpc';
import { JWT_ISSUER, JWT_KID } from '@hoarfrost/testkit';
import { call, callerAgent, classifyFailure, sign } from '../client.js';
import { deploy, type Deployment } from '../deploy.js';
import { apiCase, type ApiIdentity } from '../fuzz/api.js';
import { rpcCase, type RpcFuzzState } from '../fuzz/rpc.js';
import { Rng } from '../rng.js';
import { target, type Scenario } from '../scenario.js';
import { tally } from '../stats.js';

export interface FuzzingParams {
  apiRequests: number;
  rpcRequests: number;
  /** Concurrent API requests (RPC requests go one at a time: later cases use earlier answers). */
  concurrency: number;
}

interface FuzzTally {
  sent: number;
  statuses: Record<string, number>;
  failures: Record<string, number>;
  serverErrors: number;
  examples: string[];
}

const newTally = (): FuzzTally => ({ sent: 0, statuses: {}, failures: {}, serverErrors: 0, examples: [] });

function count(t: FuzzTally, kind: string, status: number | undefined, failure: string | undefined, detail: string): void {
  t.sent++;
  if (status !== undefined) {
    const k = `${Math.floor(status / 100)}xx`;
    t.statuses[k] = (t.statuses[k] ?? 0) + 1;
    if (status >= 500) {
      t.serverErrors++;
      if (t.examples.length < 10) t.examples.push(`${kind}: ${status} ${detail}`);
    }
  } else {
    t.failures[failure ?? 'other'] = (t.failures[failure ?? 'other'] ?? 0) + 1;
  }
}

async function fuzzApi(d: Deployment, p: FuzzingParams, seed: number): Promise<FuzzTally> {
  const agents: Record<ApiIdentity, Dispatcher> = {
    caller: d.caller,
    none: callerAgent(d.env, { cert: false }),
    wrong: callerAgent(d.env, { cert: { certFile: d.env.coordinatorClientCertFile, keyFile: d.env.coordinatorClientKeyFile } }),
  };
  const ctx = { participants: d.env.signers.map((s) => d.participantOf(s.id)), signerUrls: Object.values(d.cluster.signerUrls) };
  const t = newTally();
  let next = 0;
  const worker = async () => {
    while (next < p.apiRequests) {
      const i = next++;
      // One generator per request: request i is the same whatever the concurrency.
      const c = apiCase(new Rng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0), ctx);
      const r = await call(agents[c.identity], d.cluster.url, { method: c.method, path: c.path, headers: c.headers, ...(c.body !== undefined ? { body: c.body } : {}), timeoutMs: 30_000 });
      const body = typeof c.body === 'string' || Buffer.isBuffer(c.body) ? JSON.stringify(c.body.toString().slice(0, 80)) : 'chunked';
      count(t, c.kind, r.status, r.failure, `${c.method} ${c.path.slice(0, 60)} ${r.code ?? ''} (case ${i}, body ${body})`);
    }
  };
  await Promise.all(Array.from({ length: p.concurrency }, worker));
  await Promise.all([agents.none, agents.wrong].map((a) => a.destroy()));
  return t;
}

async function fuzzRpc(d: Deployment, p: FuzzingParams, seed: number): Promise<FuzzTally & { signer: string }> {
  const [victim, other] = d.env.signers;
  const agent = new Agent({
    connect: { ca: readFileSync(d.env.caFile), cert: readFileSync(d.env.coordinatorClientCertFile), key: readFileSync(d.env.coordinatorClientKeyFile), servername: victim!.id },
  });
  const jwtKey = loadEd25519PrivateKey(readFileSync(d.env.jwtKeyFile, 'utf8'));
  const ctx = {
    signerId: victim!.id,
    otherSignerId: other!.id,
    keyId: d.env.keyId,
    tokens: new RpcTokenSigner({ privateKey: jwtKey, kid: JWT_KID, issuer: JWT_ISSUER }),
    jwtKey,
    kid: JWT_KID,
    issuer: JWT_ISSUER,
  };
  const state: RpcFuzzState = { commitments: [], sent: [] };
  const t = newTally();
  const origin = d.cluster.signerUrls[victim!.id]!;
  for (let i = 0; i < p.rpcRequests; i++) {
    // One generator per case, as for the API; a case also depends on what earlier answers taught.
    const c = rpcCase(new Rng((seed ^ 0x5bd1e995 ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0), ctx, state);
    try {
      const res = await request(origin + c.path, {
        method: c.method as Dispatcher.HttpMethod,
        headers: c.headers,
        ...(c.body.length || c.method === 'POST' ? { body: c.body } : {}),
        dispatcher: agent,
        signal: AbortSignal.timeout(30_000),
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      let detail = '';
      if (res.statusCode !== 200) {
        try {
          detail = String((JSON.parse(body.toString('utf8')) as { error?: { code?: string } }).error?.code ?? '');
        } catch {
          /* not JSON */
        }
      }
      count(t, c.kind, res.statusCode, undefined, `${c.method} ${c.path.slice(0, 40)} ${detail} (case ${i}, body ${c.body.subarray(0, 48).toString('hex')})`);
      if (res.statusCode === 200 && c.path === RPC_PATHS.round1) learn(state, body);
    } catch (e) {
      count(t, c.kind, undefined, classifyFailure(e).failure, '');
    }
  }
  await agent.destroy();
  return { ...t, signer: victim!.id };
}

/** Keeps the identifier and the commitments of a round-1 answer for later round-2 cases. */
function learn(state: RpcFuzzState, body: Buffer): void {
  try {
    const r = decodeCbor(body) as { identifier?: Uint8Array; commitments?: { hiding: Uint8Array; binding: Uint8Array }[] };
    if (r.identifier) state.identifier = r.identifier;
    for (const c of r.commitments ?? []) if (state.commitments.length < 200) state.commitments.push(c);
  } catch {
    /* not an answer to learn from */
  }
}

export const fuzzing: Scenario<FuzzingParams> = {
  id: 'fuzzing',
  title: 'fuzzed requests on the public API and on a signer RPC port',
  full: { apiRequests: 100_000, rpcRequests: 10_000, concurrency: 16 },
  short: { apiRequests: 4000, rpcRequests: 1500, concurrency: 8 },
  async run(p, ctx) {
    const d = await deploy('fuzzing', ctx);
    try {
      const seedHex = `0x${ctx.seed.toString(16)}`;
      ctx.log(`seed ${seedHex}`);
      const api = await fuzzApi(d, p, ctx.seed);
      ctx.log(`public API: ${JSON.stringify(api.statuses)} ${JSON.stringify(api.failures)}`);
      const rpc = await fuzzRpc(d, p, ctx.seed);
      ctx.log(`signer RPC: ${JSON.stringify(rpc.statuses)} ${JSON.stringify(rpc.failures)}`);
      const processes = [d.cluster.coordinator, ...d.cluster.signers];
      const alive = processes.filter((s) => s.running).length;
      // Signing afterwards, the fuzzed signer included.
      const fuzzed = d.participantOf(rpc.signer);
      const others = d.env.signers.filter((s) => s.id !== rpc.signer).map((s) => d.participantOf(s.id));
      const after = [];
      for (let i = 0; i < 6; i++) after.push(await sign(d.target, randomBytes(32), i % 2 ? { participants: [fuzzed, others[i % others.length]!] } : {}));
      const afterOk = after.filter((r) => r.status === 200 && r.valid === true).length;
      const afterTally = tally(after.map((r) => (r.status !== undefined ? `${r.status}${r.code ? ` ${r.code}` : ''}` : (r.failure ?? 'other'))));
      return {
        figure: `seed ${seedHex}: ${api.serverErrors} 5xx in ${api.sent} public API requests, ${rpc.serverErrors} 5xx in ${rpc.sent} ${rpc.signer} RPC requests; ${alive}/${processes.length} processes alive, ${afterOk}/${after.length} signatures afterwards`,
        targets: [
          target('5xx on the public API', api.serverErrors, '==', 0),
          target('5xx on the signer RPC port', rpc.serverErrors, '==', 0),
          target('processes alive', alive, '==', processes.length),
          target('signing afterwards', (100 * afterOk) / after.length, '>=', 100, '%'),
        ],
        details: { seed: seedHex, api, rpc, afterwards: afterTally },
      };
    } finally {
      await d.close();
    }
  },
};
