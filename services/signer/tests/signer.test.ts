// The whole service in this process: createSigner over a development environment on disk (dev PKI,
// JWKS, key directories), started on port 0, called by the coordinator's client, and closed.
import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { group, setGroupBackend, type SigningNonces } from '@hoarfrost/frost';
import {
  CBOR_CONTENT_TYPE,
  RPC_PATHS,
  RpcTokenSigner,
  SignerCallError,
  SignerClient,
  decodeCbor,
  encodeCbor,
  loadEd25519PrivateKey,
  parseRound1Response,
} from '@hoarfrost/rpc';
import { JWT_ISSUER, JWT_KID, createDevEnvironment, signerEnv } from '@hoarfrost/testkit';
import { metricValue, readPem } from '@hoarfrost/testkit/support';
import { loadConfig } from '../src/config.js';
import { KeyLoadError } from '../src/key-store.js';
import { NonceStore } from '../src/nonce-store.js';
import { createSigner, type Signer } from '../src/signer.js';
import { rejectionOf, silentLog } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'signer-service-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env = await createDevEnvironment(join(root, 'env'), { threshold: 2, signers: 3 });
const dev = env.signers[0]!;
const tokens = new RpcTokenSigner({ privateKey: loadEd25519PrivateKey(readPem(env.jwtKeyFile)), kid: JWT_KID, issuer: JWT_ISSUER });

const running: { signer: Signer; clients: SignerClient[] }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await Promise.all(r.clients.map((c) => c.close()));
    await r.signer.close();
  }
});

/** Signer 1 of the environment, as main.ts builds it from its variables, but in-process and without worker threads. */
function newSigner(extra: Record<string, string> = {}): { signer: Signer; client: () => SignerClient } {
  const config = loadConfig(signerEnv(env, dev, { rpc: 0, ops: 0 }, { SIGNER_CRYPTO_WORKERS: '0', SIGNER_LOG_LEVEL: 'silent', ...extra }));
  const signer = createSigner(config, { logger: silentLog });
  const entry = { signer, clients: [] as SignerClient[] };
  running.push(entry);
  const client = () => {
    const c = new SignerClient({
      id: dev.id,
      url: `https://127.0.0.1:${signer.ports().rpc}`,
      caPem: readPem(env.caFile),
      certPem: readPem(env.coordinatorClientCertFile),
      keyPem: readPem(env.coordinatorClientKeyFile),
      tokens,
    });
    entry.clients.push(c);
    return c;
  };
  return { signer, client };
}

/** GET on the plain ops listener. */
function ops(signer: Signer, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port: signer.ports().ops, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
    }).on('error', reject);
  });
}

/**
 * A round-1 RPC whose body is held back: `Expect: 100-continue` makes the server answer "continue"
 * only once it has the request (counted in flight), so the test knows when the RPC is in progress.
 */
function heldRound1(signer: Signer, count: number) {
  const body = encodeCbor({ key_id: env.keyId, count });
  let continued!: () => void;
  const inFlight = new Promise<void>((resolve) => (continued = resolve));
  const req = request({
    host: '127.0.0.1',
    port: signer.ports().rpc,
    method: 'POST',
    path: RPC_PATHS.round1,
    servername: dev.id,
    ca: readPem(env.caFile),
    cert: readPem(env.coordinatorClientCertFile),
    key: readPem(env.coordinatorClientKeyFile),
    agent: false,
    headers: {
      'content-type': CBOR_CONTENT_TYPE,
      'content-length': String(body.length),
      authorization: `Bearer ${tokens.sign({ audience: dev.id, path: RPC_PATHS.round1, body })}`,
      expect: '100-continue',
    },
  });
  const response = new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
  req.on('continue', () => continued());
  req.flushHeaders();
  return { inFlight, response, send: () => req.end(body) };
}

const connectionRefused = (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ code: 'ECONNREFUSED' });

describe('createSigner', () => {
  it('starts on port 0, turns ready, serves the coordinator, and is not ready once closed', async () => {
    const { signer, client } = newSigner();
    expect(signer.ready).toBe(false);
    await signer.start();
    expect(signer.ready).toBe(true);
    expect(signer.ports().rpc).toBeGreaterThan(0);
    expect(signer.ports().ops).toBeGreaterThan(0);
    expect(await ops(signer, '/readyz')).toEqual({ status: 200, text: '{"status":"ready"}' });

    const c = client();
    expect((await c.round1({ key_id: env.keyId, count: 3 })).commitments).toHaveLength(3);
    const info = await c.info();
    expect(info.keys.map((k) => [k.key_id, k.min_signers])).toEqual([[env.keyId, 2]]);
    const metrics = (await ops(signer, '/metrics')).text;
    expect(metricValue(metrics, 'frost_signer_ready')).toBe(1);
    expect(metricValue(metrics, 'frost_signer_keys_loaded')).toBe(1);
    expect(metricValue(metrics, 'frost_signer_outstanding_nonces')).toBe(3);
    expect(metricValue(metrics, 'frost_signer_round1_total', { outcome: 'ok' })).toBe(1);

    await signer.close();
    expect(signer.ready).toBe(false);
    const e = await rejectionOf(client().info());
    expect(e).toBeInstanceOf(SignerCallError);
    expect((e as SignerCallError).code).toBe('SIGNER_UNREACHABLE');
    await connectionRefused(ops(signer, '/healthz'));
  });

  it('close lets an RPC in flight finish, then discards every nonce it holds', async () => {
    const added = jest.spyOn(NonceStore.prototype, 'add');
    try {
      const { signer, client } = newSigner();
      await signer.start();
      await client().round1({ key_id: env.keyId, count: 2 });
      const held = heldRound1(signer, 3);
      await held.inFlight;
      let closed = false;
      const closing = signer.close().then(() => (closed = true));
      expect(signer.ready).toBe(false);
      await new Promise((r) => setTimeout(r, 100));
      expect(closed).toBe(false); // still draining: the held RPC has not finished
      held.send();
      const res = await held.response;
      expect(res.status).toBe(200);
      expect(parseRound1Response(decodeCbor(res.body)).commitments).toHaveLength(3);
      await closing;
      const nonces = added.mock.calls.map((call) => call[1] as SigningNonces);
      expect(nonces).toHaveLength(5);
      // Every nonce, including those issued while draining, was discarded: none can ever sign.
      for (const n of nonces) expect(n.used).toBe(true);
    } finally {
      added.mockRestore();
    }
  });

  it('announces in info a 16-byte instance id drawn at start (the same for every call), and the message limit', async () => {
    const a = newSigner();
    const b = newSigner();
    await Promise.all([a.signer.start(), b.signer.start()]);
    const [a1, a2, b1] = await Promise.all([a.client().info(), a.client().info(env.keyId), b.client().info()]);
    expect(a1.instance_id).toHaveLength(16);
    expect(Buffer.from(a2.instance_id!)).toEqual(Buffer.from(a1.instance_id!));
    expect(Buffer.from(b1.instance_id!)).not.toEqual(Buffer.from(a1.instance_id!));
    expect(a1.max_message_bytes).toBe(64 * 1024); // the default policy limit, which the default body limit holds
  });

  it('refuses tokens beyond SIGNER_REPLAY_CACHE_MAX live ones with REPLAY_CACHE_FULL', async () => {
    const { signer, client } = newSigner({ SIGNER_REPLAY_CACHE_MAX: '100' });
    await signer.start();
    const c = client();
    for (let i = 0; i < 100; i++) await c.info();
    const e = await rejectionOf(c.info());
    expect(e).toBeInstanceOf(SignerCallError);
    expect((e as SignerCallError).code).toBe('REPLAY_CACHE_FULL');
  });

  it('counts nonces evicted from a full store in frost_signer_nonces_dropped_total{reason="evicted"}', async () => {
    const { signer, client } = newSigner({ SIGNER_MAX_NONCES: '2', SIGNER_MAX_COMMITMENT_BATCH: '2' });
    await signer.start();
    const c = client();
    const before = (await ops(signer, '/metrics')).text;
    expect(metricValue(before, 'frost_signer_nonces_dropped_total', { reason: 'evicted' })).toBe(0);
    await c.round1({ key_id: env.keyId, count: 2 });
    await c.round1({ key_id: env.keyId, count: 1 });
    const after = (await ops(signer, '/metrics')).text;
    expect(metricValue(after, 'frost_signer_nonces_dropped_total', { reason: 'evicted' })).toBe(1);
    expect(metricValue(after, 'frost_signer_nonces_dropped_total', { reason: 'expired' })).toBe(0);
    expect(metricValue(after, 'frost_signer_outstanding_nonces')).toBe(2);
  });

  it('applies SIGNER_GROUP_BACKEND at start', async () => {
    // The backend is process-wide: put back the one the other tests run with.
    const before = group().name;
    try {
      const { signer, client } = newSigner({ SIGNER_GROUP_BACKEND: 'noble' });
      await signer.start();
      expect(group().name).toBe('noble');
      expect((await client().round1({ key_id: env.keyId, count: 1 })).commitments).toHaveLength(1);
    } finally {
      setGroupBackend(before);
    }
  });

  it('a start that cannot load keys fails, stays not ready with the reason on /readyz, and still closes', async () => {
    const empty = join(root, 'no-keys');
    mkdirSync(empty, { recursive: true });
    const { signer } = newSigner({ SIGNER_KEY_DIR: empty });
    const e = await rejectionOf(signer.start());
    expect(e).toBeInstanceOf(KeyLoadError);
    expect(signer.ready).toBe(false);
    const readyz = await ops(signer, '/readyz');
    expect(readyz.status).toBe(503);
    expect(JSON.parse(readyz.text)).toEqual({ status: 'not ready', reason: 'starting: keys not loaded' });
    expect(signer.ports().rpc).toBe(0);
    await signer.close();
    await connectionRefused(ops(signer, '/readyz'));
  });
});
