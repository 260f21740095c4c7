// Whole deployments as real processes (coordinator + n signers) on 127.0.0.1 with real mTLS.
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signerMain, createDevEnvironment, signerEnv, startCluster, startService, type Cluster } from '@hoarfrost/testkit';
import { MintClient, ed25519Verifies, metricValue } from '@hoarfrost/testkit/support';

const clusters: Cluster[] = [];
const clients: MintClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(clusters.map((c) => c.stop()));
});

async function deploy(t: number, n: number, options: Parameters<typeof startCluster>[1] = {}): Promise<{ cluster: Cluster; client: MintClient }> {
  const env = await createDevEnvironment(mkdtempSync(join(tmpdir(), `frost-e2e-${t}of${n}-`)), { threshold: t, signers: n });
  const cluster = await startCluster(env, options);
  clusters.push(cluster);
  const client = new MintClient(env, cluster.url);
  clients.push(client);
  return { cluster, client };
}

describe.each([
  [2, 3, 6],
  [3, 5, 4],
  [7, 10, 3],
])('%i-of-%i deployment', (t, n, count) => {
  it(`signs ${count} random messages; every signature verifies with node:crypto`, async () => {
    const { client } = await deploy(t, n);
    for (let i = 0; i < count; i++) {
      const message = randomBytes(1 + Math.floor(Math.random() * 200));
      const r = await client.sign(message);
      expect(r.status).toBe(200);
      expect(r.json.participants).toHaveLength(t);
      expect(ed25519Verifies(r.json.group_public_b64 as string, message, r.json.signature_b64 as string)).toBe(true);
    }
    // Explicit participants are honoured.
    const chosen = Array.from({ length: t }, (_, i) => n - i).sort((a, b) => a - b);
    const message = randomBytes(32);
    const r = await client.sign(message, { participants: chosen });
    expect(r.status).toBe(200);
    expect(r.json.participants).toEqual(chosen);
    expect(ed25519Verifies(r.json.group_public_b64 as string, message, r.json.signature_b64 as string)).toBe(true);
  }, 120_000);
});

describe('resilience', () => {
  it('a signer killed mid-run does not stop signing in a 2-of-3 deployment', async () => {
    const { cluster, client } = await deploy(2, 3);
    const before = await client.sign(randomBytes(16));
    expect(before.status).toBe(200);
    const victim = cluster.signers[0]!;
    victim.child.kill('SIGKILL');
    await new Promise((r) => victim.child.once('exit', r));
    for (let i = 0; i < 8; i++) {
      const message = randomBytes(24);
      const r = await client.sign(message);
      expect(r.status).toBe(200);
      expect(r.json.participants).toEqual([2, 3]);
      expect(ed25519Verifies(r.json.group_public_b64 as string, message, r.json.signature_b64 as string)).toBe(true);
    }
    const metrics = await (await fetch(`${cluster.opsUrl}/metrics`)).text();
    expect(metricValue(metrics, 'frost_coordinator_signs_total', { outcome: 'ok' })).toBe(9);
    // SIGTERM: the coordinator drains and exits cleanly.
    expect(await cluster.coordinator.stop('SIGTERM')).toBe(0);
    expect(cluster.coordinator.logs.some((l) => l.includes('coordinator stopped'))).toBe(true);
  }, 60_000);

  it('a restarted signer (its preprocessed commitments gone) is used again without failing a request', async () => {
    const { cluster, client } = await deploy(2, 3);
    for (let i = 0; i < 3; i++) expect((await client.sign(randomBytes(8), { participants: [1, 2] })).status).toBe(200);
    const s1 = cluster.env.signers[0]!;
    const port = Number(new URL(cluster.signerUrls[s1.id]!).port);
    const opsPort = cluster.signers[0]!.ports.opsPort!;
    expect(await cluster.signers[0]!.stop()).toBe(0);
    cluster.signers[0] = await startService(s1.id, signerMain(), signerEnv(cluster.env, s1, { rpc: port, ops: opsPort }), { readyMessage: 'signer ready' });
    // Pinned participants: the coordinator's pooled commitments for signer 1 are unknown to the new
    // process; the request must still succeed (pool flushed, fresh round 1).
    for (let i = 0; i < 4; i++) {
      const message = randomBytes(8);
      const r = await client.sign(message, { participants: [1, 2] });
      expect(r.status).toBe(200);
      expect(ed25519Verifies(r.json.group_public_b64 as string, message, r.json.signature_b64 as string)).toBe(true);
    }
    const metrics = await (await fetch(`${cluster.opsUrl}/metrics`)).text();
    expect(metricValue(metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-1', rpc: 'round2', outcome: 'UNKNOWN_COMMITMENT' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'frost_coordinator_signer_breaker_state', { signer: 'signer-1' })).toBe(0);
  }, 60_000);

  it('a signer returning corrupted shares is named as culprit and signing still succeeds with the others', async () => {
    const { cluster, client } = await deploy(2, 3, {
      signerExtraEnv: (i): Record<string, string> => (i === 1 ? { SIGNER_TEST_FAULT: 'corrupt-shares', SIGNER_ALLOW_TEST_FAULTS: 'true' } : {}),
    });
    // Forced to use the cheater: the request fails and names it.
    const forced = await client.sign(randomBytes(16), { participants: [1, 2] });
    expect(forced.status).toBe(503);
    expect(forced.json.error!.code).toBe('QUORUM_UNAVAILABLE');
    expect(forced.json.error!.culprits).toEqual([1]);
    // Free choice: every call succeeds; the cheater is excluded (its breaker opened on proof of cheating).
    for (let i = 0; i < 6; i++) {
      const message = randomBytes(16);
      const r = await client.sign(message);
      expect(r.status).toBe(200);
      expect(r.json.participants).toEqual([2, 3]);
      expect(ed25519Verifies(r.json.group_public_b64 as string, message, r.json.signature_b64 as string)).toBe(true);
    }
    const metrics = await (await fetch(`${cluster.opsUrl}/metrics`)).text();
    expect(metricValue(metrics, 'frost_coordinator_culprits_total', { signer: 'signer-1' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'frost_coordinator_signer_breaker_state', { signer: 'signer-1' })).toBe(2);
    await new Promise((r) => setTimeout(r, 200)); // let the last audit lines arrive
    const audit = cluster.coordinator.logs.map((l) => JSON.parse(l) as { audit?: { outcome: string; culprits: number[]; messageSha256: string } }).filter((r) => r.audit);
    expect(audit.some((r) => r.audit!.outcome === 'QUORUM_UNAVAILABLE' && r.audit!.culprits.includes(1))).toBe(true);
    expect(audit.filter((r) => r.audit!.outcome === 'ok')).toHaveLength(6);
  }, 60_000);
});
