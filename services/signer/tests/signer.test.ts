// The whole service in this process: createSigner over a development environment on disk (dev PKI,
// JWKS, key directories, a sealed store per signer), started on port 0, called by the coordinator's
// client, and closed; and a signer whose keys cannot be loaded, which stays up and says why.
import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identifier, group, keyPackageFromJson, serializeScalar, setGroupBackend, trustedDealerKeygen, type SigningNonces } from '@hoarfrost/frost';
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
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@hoarfrost/runtime';
import { JWT_ISSUER, JWT_KID, createDevEnvironment, signerEnv } from '@hoarfrost/testkit';
import { metricValue, readPem } from '@hoarfrost/testkit/support';
import { loadConfig } from '../src/config.js';
import { Kek } from '../src/sealed-store.js';
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

let stores = 0;
/** A sealed store directory of its own (signers started side by side never share one). */
const newStoreDir = () => join(root, `store-${++stores}`);

/**
 * Signer 1 of the environment, as main.ts builds it from its variables, but in-process and without
 * worker threads, with a fresh sealed store unless `extra` names one.
 */
function newSigner(extra: Record<string, string> = {}, logger: Logger = silentLog): { signer: Signer; client: () => SignerClient } {
  const config = loadConfig(signerEnv(env, dev, { rpc: 0, ops: 0 }, { SIGNER_CRYPTO_WORKERS: '0', SIGNER_LOG_LEVEL: 'silent', SIGNER_STORE_DIR: newStoreDir(), ...extra }));
  const signer = createSigner(config, { logger });
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

  it('without a sealed store, serves the dealer key directory read-only (as before)', async () => {
    const { signer, client } = newSigner({ SIGNER_STORE_DIR: '' });
    await signer.start();
    expect(signer.vault!.readOnly).toBe(true);
    expect((await client().round1({ key_id: env.keyId, count: 1 })).commitments).toHaveLength(1);
  });

  it('imports the dealer key into its sealed store (mode 0600, no share in the clear), and keeps it across a restart without the dealer directory', async () => {
    const storeDir = newStoreDir();
    const first = newSigner({ SIGNER_STORE_DIR: storeDir });
    await first.signer.start();
    expect(first.signer.vault!.imported).toEqual([env.keyId]);
    expect(readdirSync(storeDir)).toEqual([`${env.keyId}.key`]);
    expect(statSync(storeDir).mode & 0o777).toBe(0o700);
    const file = readFileSync(join(storeDir, `${env.keyId}.key`));
    expect(statSync(join(storeDir, `${env.keyId}.key`)).mode & 0o777).toBe(0o600);
    const share = Buffer.from(serializeScalar(keyPackageFromJson(readFileSync(join(dev.keyDir, env.keyId, 'key-package.json'), 'utf8')).signingShare));
    expect(file.includes(share)).toBe(false);
    expect(file.includes(Buffer.from(share.toString('hex')))).toBe(false);
    await first.signer.close();

    const second = newSigner({ SIGNER_STORE_DIR: storeDir, SIGNER_KEY_DIR: join(root, 'no-dealer-keys') });
    await second.signer.start();
    expect(second.signer.vault!.imported).toEqual([]);
    expect(second.signer.ready).toBe(true);
    expect((await second.client().round1({ key_id: env.keyId, count: 1 })).commitments).toHaveLength(1);
    expect(readFileSync(join(storeDir, `${env.keyId}.key`))).toEqual(file); // not rewritten
  });

  it('a restart on the same store keeps every key and state, and cleans a temporary file left by a crash', async () => {
    const storeDir = newStoreDir();
    const first = newSigner({ SIGNER_STORE_DIR: storeDir });
    await first.signer.start();
    const vault = first.signer.vault!;
    const made = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
    const key = (keyId: string) => ({ keyId, keyPackage: made.keyPackages.get(Identifier.fromNumber(1).toHex())!, publicKeyPackage: made.publicKeyPackage });
    await vault.storePending(key('made'), '01'.repeat(32));
    await vault.activate('made', '01'.repeat(32), new Uint8Array(64).fill(1));
    await vault.storePending(key('waiting'), '02'.repeat(32));
    await vault.retire(env.keyId);
    const states = (v: typeof vault) => [...v.keys.values()].map((k) => [k.keyId, k.state, k.version]).sort();
    const before = states(vault);
    expect(before).toEqual([[env.keyId, 'retired', 1], ['made', 'active', 1], ['waiting', 'pending', 1]].sort());
    await first.signer.close();
    writeFileSync(join(storeDir, '.made.key.5eed5eed5eed.tmp'), 'half a file');

    const second = newSigner({ SIGNER_STORE_DIR: storeDir });
    await second.signer.start();
    expect(second.signer.ready).toBe(true);
    expect(states(second.signer.vault!)).toEqual(before);
    expect(readdirSync(storeDir).sort()).toEqual([`${env.keyId}.key`, 'made.key', 'waiting.pending']);
    for (const f of readdirSync(storeDir)) expect(statSync(join(storeDir, f)).mode & 0o777).toBe(0o600);
  });

  /** A signer whose keys cannot be loaded: up, not ready, the reason on /readyz, in a metric and in one error log line. */
  async function expectNotReady(extra: Record<string, string>, reason: string, message: string | RegExp) {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const { signer } = newSigner(extra, createLogger('signer-test', 'info', sink));
    await signer.start(); // does not reject: a crash loop would hide the cause
    expect(signer.ready).toBe(false);
    expect(signer.vault).toBeUndefined();
    expect(signer.ports().rpc).toBe(0); // no RPC listener
    expect(await ops(signer, '/healthz')).toEqual({ status: 200, text: '{"status":"ok"}' });
    const readyz = await ops(signer, '/readyz');
    expect(readyz.status).toBe(503);
    const body = JSON.parse(readyz.text) as { status: string; reason: string };
    expect(body.status).toBe('not ready');
    expect(body.reason).toMatch(/^keys not loaded: /);
    expect(body.reason.slice('keys not loaded: '.length)).toMatch(message);
    const metrics = (await ops(signer, '/metrics')).text;
    expect(metricValue(metrics, 'frost_signer_ready')).toBe(0);
    expect(metricValue(metrics, 'frost_signer_keys_loaded')).toBe(0);
    expect(metricValue(metrics, 'frost_signer_key_load_failed', { reason })).toBe(1);
    const errors = lines.map((l) => JSON.parse(l) as { level: string; msg: string; reason?: string; err?: string }).filter((r) => r.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe('keys not loaded');
    expect(errors[0]!.reason).toBe(reason);
    expect(errors[0]!.err).toMatch(message);
    await signer.close();
    await connectionRefused(ops(signer, '/readyz'));
    return { log: lines.join('') };
  }

  it('with another KEK: up but not ready, naming both KEK fingerprints, and the store untouched', async () => {
    const storeDir = newStoreDir();
    const first = newSigner({ SIGNER_STORE_DIR: storeDir });
    await first.signer.start();
    const sealedWith = first.signer.vault!.kekFingerprint!;
    await first.signer.close();
    const before = readFileSync(join(storeDir, `${env.keyId}.key`));
    const kekFile = join(root, 'other-kek');
    const otherKek = randomBytes(32);
    writeFileSync(kekFile, otherKek.toString('hex') + '\n');
    const mine = Kek.fromFileBytes(otherKek, kekFile).fingerprintHex;
    const { log } = await expectNotReady(
      { SIGNER_STORE_DIR: storeDir, SIGNER_KEK_FILE: kekFile },
      'wrong_kek',
      `sealed key file ${join(storeDir, `${env.keyId}.key`)}: sealed with another KEK: fingerprint ${sealedWith}, this signer's KEK has ${mine}`,
    );
    expect(log).not.toContain(otherKek.toString('hex'));
    expect(readFileSync(join(storeDir, `${env.keyId}.key`))).toEqual(before);
  });

  it('with a damaged sealed file (one flipped byte): up but not ready, naming the file', async () => {
    const storeDir = newStoreDir();
    const first = newSigner({ SIGNER_STORE_DIR: storeDir });
    await first.signer.start();
    await first.signer.close();
    const file = join(storeDir, `${env.keyId}.key`);
    const bytes = readFileSync(file);
    bytes[bytes.length - 40]! ^= 0x01;
    writeFileSync(file, bytes);
    await expectNotReady({ SIGNER_STORE_DIR: storeDir }, 'corrupted', `sealed key file ${file}: authentication failed: the file is corrupted or was altered`);
    expect(readFileSync(file)).toEqual(bytes);
  });

  it('with a dealer key that conflicts with the stored one: up but not ready, naming the conflict', async () => {
    const storeDir = newStoreDir();
    const first = newSigner({ SIGNER_STORE_DIR: storeDir });
    await first.signer.start();
    await first.signer.close();
    const other = await createDevEnvironment(join(root, 'other-env'), { threshold: 2, signers: 3 });
    await expectNotReady({ SIGNER_STORE_DIR: storeDir, SIGNER_KEY_DIR: other.signers[0]!.keyDir }, 'import_conflict', new RegExp(`^dealer key "${env.keyId}" in .* has group key [0-9a-f]{64}, but the sealed store holds key "${env.keyId}" with group key [0-9a-f]{64}$`));
  });

  it('with an unusable KEK file: up but not ready, saying what the file holds (never its content)', async () => {
    const kekFile = join(root, 'short-kek');
    writeFileSync(kekFile, 'c0ffee\n');
    await expectNotReady({ SIGNER_KEK_FILE: kekFile }, 'kek', `KEK file ${kekFile}: 6 hex characters; expected exactly 32 raw bytes, 64 hex characters or the base64 of 32 bytes`);
  });

  it('without a store and without dealer keys: up but not ready, with the reason', async () => {
    const empty = join(root, 'no-keys');
    mkdirSync(empty, { recursive: true });
    await expectNotReady({ SIGNER_STORE_DIR: '', SIGNER_KEY_DIR: empty }, 'dealer_keys', /^no keys found in .*no-keys/);
  });

  it('with a store, no keys at all is fine: ready, keys can be made by key generation', async () => {
    const { signer } = newSigner({ SIGNER_KEY_DIR: join(root, 'absent-dealer-dir') });
    await signer.start();
    expect(signer.ready).toBe(true);
    expect(signer.vault!.keys.size).toBe(0);
    expect(metricValue((await ops(signer, '/metrics')).text, 'frost_signer_key_load_failed', { reason: 'wrong_kek' })).toBe(0);
  });
});
