// Keys made by the signers themselves, as an operator runs it: deployments with no dealer key, the
// frostctl binary against the coordinator's admin API, the signers' sealed stores on disk, real
// processes and real mutual TLS. Signatures are checked with node:crypto, OpenSSL and jose.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { coordinatorEnv, coordinatorMain, createDevEnvironment, signerEnv, signerMain, startCluster, startService, type Cluster, type ServiceProcess } from '@hoarfrost/testkit';
import { MintClient, ed25519Verifies, metricValue, opensslVerifies } from '@hoarfrost/testkit/support';

const bin = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));

/** frostctl as an operator runs it (asynchronously: the cluster's processes keep running meanwhile). */
function frostctl(cluster: Cluster, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args, '--url', cluster.url, '--dev-dir', cluster.env.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

interface Deployment {
  cluster: Cluster;
  client: MintClient;
}

const deployments: Deployment[] = [];
afterAll(async () => {
  await Promise.all(deployments.map(async (d) => {
    await d.client.close();
    await d.cluster.stop();
  }));
});

async function deployWithoutDealer(t: number, n: number): Promise<Deployment> {
  const env = await createDevEnvironment(mkdtempSync(join(tmpdir(), `frost-keys-${t}of${n}-`)), { threshold: t, signers: n, dealer: false });
  const cluster = await startCluster(env);
  const d = { cluster, client: new MintClient(env, cluster.url) };
  deployments.push(d);
  return d;
}

async function createKey(d: Deployment, keyId: string, t: number): Promise<void> {
  const r = await frostctl(d.cluster, 'keys', 'create', '--key-id', keyId, '--threshold', String(t));
  if (r.status !== 0) throw new Error(`frostctl keys create exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  // Each step is printed as it happens.
  for (const step of ['begin', 'echo', 'deal', 'finish', 'confirm', 'sign', 'activate']) expect(r.stdout).toContain(step);
}

/** Signs `message` under `keyId` and checks the signature with node:crypto and OpenSSL; returns the group key. */
async function signAndVerify(client: MintClient, keyId: string, message: Uint8Array): Promise<string> {
  const r = await client.sign(message, { key_id: keyId });
  expect(r.status).toBe(200);
  const groupKey = r.json.group_public_b64 as string;
  const signature = r.json.signature_b64 as string;
  expect(ed25519Verifies(groupKey, message, signature)).toBe(true);
  expect(opensslVerifies(Buffer.from(groupKey, 'base64'), message, Buffer.from(signature, 'base64'))).toBe(true);
  return groupKey;
}

async function jwks(client: MintClient): Promise<{ keys: { kid: string; x: string; kty: string; crv: string }[] }> {
  const r = await client.get('/.well-known/jwks.json');
  expect(r.status).toBe(200);
  return r.json as unknown as { keys: { kid: string; x: string; kty: string; crv: string }[] };
}

describe.each([
  [2, 3],
  [3, 5],
])('a fresh %i-of-%i deployment with no dealer key', (t, n) => {
  it('frostctl keys create makes a key; /sign with its key_id verifies with node:crypto and OpenSSL; a /v1/jws verifies with jose against the JWKS', async () => {
    const d = await deployWithoutDealer(t, n);
    await createKey(d, 'mint', t);
    const groupKey = await signAndVerify(d.client, 'mint', randomBytes(48));
    const listed = await d.client.get('/v1/keys');
    expect(listed.status).toBe(200);
    const entry = (listed.json.keys as { key_id: string; state: string; threshold: number; group_public_key: string }[]).find((k) => k.key_id === 'mint');
    expect(entry).toMatchObject({ state: 'active', threshold: t });
    expect(Buffer.from(entry!.group_public_key, 'base64url').toString('base64')).toBe(groupKey);
    const jws = await d.client.post('/v1/jws', { key_id: 'mint', payload: { sub: 'token-1', amount: 5 } });
    expect(jws.status).toBe(200);
    const compact = jws.json.jws as string;
    expect(decodeProtectedHeader(compact)).toMatchObject({ alg: 'EdDSA', kid: 'mint' });
    const set = createLocalJWKSet(await jwks(d.client));
    const verified = await compactVerify(compact, set);
    expect(JSON.parse(Buffer.from(verified.payload).toString('utf8'))).toEqual({ sub: 'token-1', amount: 5 });
  }, 180_000);
});

describe('keys over the life of a 2-of-3 deployment', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deployWithoutDealer(2, 3);
    await createKey(d, 'alpha', 2);
    await createKey(d, 'beta', 2);
  }, 180_000);

  it('two keys at once: each signs under its own group key and kid', async () => {
    const a = await signAndVerify(d.client, 'alpha', randomBytes(20));
    const b = await signAndVerify(d.client, 'beta', randomBytes(20));
    expect(a).not.toBe(b);
    const published = await jwks(d.client);
    expect(published.keys.map((k) => k.kid).sort()).toEqual(expect.arrayContaining(['alpha', 'beta']));
    for (const k of published.keys) expect(k).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    for (const keyId of ['alpha', 'beta']) {
      const jws = await d.client.post('/v1/jws', { key_id: keyId, payload: { n: 1 } });
      expect(jws.status).toBe(200);
      expect(decodeProtectedHeader(jws.json.jws as string).kid).toBe(keyId);
      await compactVerify(jws.json.jws as string, createLocalJWKSet(published));
    }
  }, 60_000);

  it('refresh: the group key stays, the shares change, signing works — also through a second coordinator that has not looked since', async () => {
    // Another replica of the coordinator, which reads the signers only at start (no health round during the test).
    const replica = await startService('coordinator-b', coordinatorMain(), coordinatorEnv(d.cluster.env, d.cluster.signerUrls, { api: 0, ops: 0 }, { COORDINATOR_HEALTH_INTERVAL_MS: '600000' }), { readyMessage: 'coordinator ready' });
    const viaReplica = new MintClient(d.cluster.env, `https://127.0.0.1:${replica.ports.port}`);
    try {
      await waitFor(async () => (await viaReplica.sign(randomBytes(8), { key_id: 'beta' })).status === 200);
      const before = await signAndVerify(d.client, 'beta', randomBytes(16));
      const stores = d.cluster.env.signers.map((s) => readdirSync(s.storeDir).filter((f) => f.startsWith('beta')).map((f) => readFileSync(join(s.storeDir, f))));
      const r = await frostctl(d.cluster, 'keys', 'refresh', '--key-id', 'beta');
      expect(r.status).toBe(0);
      expect(await signAndVerify(d.client, 'beta', randomBytes(16))).toBe(before);
      // The replica has not read the signers since: its round 2 names version 1, which they no longer
      // hold. It signs all the same, under the same group key, and names nobody. (Shares of one version
      // combine to a valid signature whatever the replica's view; the version check matters when shares
      // of two versions meet, as the orchestrator's tests show.)
      const message = randomBytes(16);
      const viaB = await viaReplica.sign(message, { key_id: 'beta' });
      expect(viaB.status).toBe(200);
      expect(viaB.json.group_public_b64).toBe(before);
      expect(ed25519Verifies(before, message, viaB.json.signature_b64 as string)).toBe(true);
      expect(viaB.json.culprits ?? []).toEqual([]);
      const metrics = await (await fetch(`http://127.0.0.1:${replica.ports.opsPort}/metrics`)).text();
      expect(metricValue(metrics, 'frost_coordinator_culprits_total')).toBe(0);
      checkStoresRewritten(stores);
    } finally {
      await viaReplica.close();
      await replica.stop();
    }
  }, 120_000);

  function checkStoresRewritten(stores: Buffer[][]): void {
    // Every signer's sealed store for the key was rewritten with its new share.
    d.cluster.env.signers.forEach((s, i) => {
      const now = readdirSync(s.storeDir).filter((f) => f.startsWith('beta')).map((f) => readFileSync(join(s.storeDir, f)));
      expect(now).toHaveLength(1);
      expect(stores[i]!.some((old) => old.equals(now[0]!))).toBe(false);
    });
  }

  it('restart every signer: every key survives in the sealed stores, signing works', async () => {
    for (const s of d.cluster.env.signers) await d.cluster.restartSigner(s.id);
    await waitFor(async () => (await d.client.sign(randomBytes(8), { key_id: 'alpha' })).status === 200);
    await signAndVerify(d.client, 'alpha', randomBytes(16));
    await signAndVerify(d.client, 'beta', randomBytes(16));
  }, 120_000);

  it('retire: /sign for that key is refused with KEY_RETIRED; its public key stays in the JWKS; the other key signs on', async () => {
    const r = await frostctl(d.cluster, 'keys', 'retire', '--key-id', 'alpha');
    expect(r.status).toBe(0);
    await waitFor(async () => (await d.client.sign(randomBytes(8), { key_id: 'alpha' })).status === 409);
    const refused = await d.client.sign(randomBytes(8), { key_id: 'alpha' });
    expect(refused.json.error?.code).toBe('KEY_RETIRED');
    expect((await jwks(d.client)).keys.map((k) => k.kid)).toContain('alpha');
    await signAndVerify(d.client, 'beta', randomBytes(16));
  }, 60_000);

  it('remove: asked for by name, a retired key\'s shares are deleted on every signer and it leaves the JWKS; an active key is not removed', async () => {
    const unconfirmed = await frostctl(d.cluster, 'keys', 'remove', '--key-id', 'alpha');
    expect(unconfirmed.status).toBe(2);
    expect(unconfirmed.stderr).toMatch(/--delete-shares/);
    const active = await frostctl(d.cluster, 'keys', 'remove', '--key-id', 'beta', '--delete-shares');
    expect(active.status).toBe(1);
    expect(active.stderr).toMatch(/KEY_NOT_RETIRED/);
    const r = await frostctl(d.cluster, 'keys', 'remove', '--key-id', 'alpha', '--delete-shares');
    expect(r.status).toBe(0);
    expect((await jwks(d.client)).keys.map((k) => k.kid)).not.toContain('alpha');
    for (const s of d.cluster.env.signers) expect(readdirSync(s.storeDir).filter((f) => f.startsWith('alpha.'))).toEqual(['alpha.removed']);
    const refused = await d.client.sign(randomBytes(8), { key_id: 'alpha' });
    expect(refused.status).toBe(404);
    expect(refused.json.error?.code).toBe('UNKNOWN_KEY');
    await signAndVerify(d.client, 'beta', randomBytes(16));
  }, 60_000);

  it('a corrupted sealed file, or a wrong KEK: that signer is not ready with a precise reason; the others keep signing', async () => {
    const env = d.cluster.env;
    const victim = env.signers[0]!;
    const file = join(victim.storeDir, readdirSync(victim.storeDir).find((f) => f.startsWith('beta'))!);
    const original = readFileSync(file);
    const corrupted = Buffer.from(original);
    corrupted[corrupted.length - 20]! ^= 0x01;
    writeFileSync(file, corrupted);
    const reason = await restartNotReady(d.cluster, 0);
    expect(reason).toMatch(/corrupted|altered/);
    expect(reason).toContain('beta');
    await signAndVerify(d.client, 'beta', randomBytes(16));

    writeFileSync(file, original);
    const kek = readFileSync(victim.kekFile);
    writeFileSync(victim.kekFile, randomBytes(32).toString('base64') + '\n');
    try {
      expect(await restartNotReady(d.cluster, 0)).toMatch(/another KEK/);
      await signAndVerify(d.client, 'beta', randomBytes(16));
    } finally {
      writeFileSync(victim.kekFile, kek);
    }
    // Put right, the signer comes back with every key.
    await d.cluster.signers[0]!.stop();
    d.cluster.signers[0] = await startSignerAgain(d.cluster, 0, 'signer ready');
    const ready = await fetch(`http://127.0.0.1:${d.cluster.signers[0].ports.opsPort}/readyz`);
    expect(ready.status).toBe(200);
  }, 120_000);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Signer `index` started again on its ports, considered up once it logs `readyMessage`. */
async function startSignerAgain(cluster: Cluster, index: number, readyMessage: string): Promise<ServiceProcess> {
  const s = cluster.env.signers[index]!;
  const port = Number(new URL(cluster.signerUrls[s.id]!).port);
  const opsPort = cluster.signers[index]!.ports.opsPort!;
  return startService(s.id, signerMain(), signerEnv(cluster.env, s, { rpc: port, ops: opsPort }), { readyMessage });
}

/** Restarts signer `index` expecting it to stay up but not ready; returns its /readyz reason. */
async function restartNotReady(cluster: Cluster, index: number): Promise<string> {
  const opsPort = cluster.signers[index]!.ports.opsPort!;
  await cluster.signers[index]!.stop();
  const p = await startSignerAgain(cluster, index, 'keys not loaded');
  cluster.signers[index] = p;
  p.ports.opsPort = opsPort;
  const r = await fetch(`http://127.0.0.1:${opsPort}/readyz`);
  expect(r.status).toBe(503);
  expect(p.child.exitCode).toBeNull();
  return ((await r.json()) as { reason: string }).reason;
}
