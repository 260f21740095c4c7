// Signer-dials mode as real processes: signer 1 cannot be reached (the coordinator has no address
// for it); it connects to the coordinator's signer listener itself, and the coordinator sends it RPCs
// on that connection like on any channel.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevEnvironment, loadCertificateAuthority, signerEnv, signerMain, startCluster, startService, type Cluster, type DevEnvironment } from '@hoarfrost/testkit';
import { MintClient, ed25519Verifies, metricValue, readPem } from '@hoarfrost/testkit/support';

let env: DevEnvironment;
let cluster: Cluster;
let client: MintClient;
let listenPort: number;
const dialling: Record<string, string> = {};

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  env = await createDevEnvironment(mkdtempSync(join(tmpdir(), 'frost-dials-')), { threshold: 2, signers: 3 });
  // A signer that dials out presents its certificate as a TLS client: it needs the client-auth usage.
  const ca = await loadCertificateAuthority(readPem(env.caFile), readPem(join(env.dir, 'ca-key.pem')));
  const pair = await ca.issue({ commonName: 'signer-1', dnsNames: ['signer-1', 'localhost'], ipAddresses: ['127.0.0.1'], usages: ['server', 'client'] });
  dialling.SIGNER_TLS_CERT_FILE = join(env.dir, 'signer-1-dialling.pem');
  dialling.SIGNER_TLS_KEY_FILE = join(env.dir, 'signer-1-dialling-key.pem');
  writeFileSync(dialling.SIGNER_TLS_CERT_FILE, pair.certPem);
  writeFileSync(dialling.SIGNER_TLS_KEY_FILE, pair.keyPem, { mode: 0o600 });
  listenPort = await freePort();
  dialling.SIGNER_COORDINATOR_URL = `https://127.0.0.1:${listenPort}`;
  cluster = await startCluster(env, {
    signerExtraEnv: (i): Record<string, string> => (i === 1 ? dialling : {}),
    coordinatorSignerUrls: (urls) => ({ ...urls, 'signer-1': 'inbound' }),
    coordinatorExtraEnv: { COORDINATOR_SIGNER_LISTEN_HOST: '127.0.0.1', COORDINATOR_SIGNER_LISTEN_PORT: String(listenPort) },
  });
  client = new MintClient(env, cluster.url);
}, 60_000);

afterAll(async () => {
  await client.close();
  await cluster.stop();
});

async function until(ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const healthy = async (id: string) => metricValue(await (await fetch(`${cluster.opsUrl}/metrics`)).text(), 'frost_coordinator_signer_healthy', { signer: id }) === 1;

describe('a signer that dials the coordinator', () => {
  it('signs over the connection it opened; every signature verifies', async () => {
    await until(() => healthy('signer-1'));
    for (let i = 0; i < 3; i++) {
      const message = randomBytes(24);
      const r = await client.sign(message, { participants: [1, 2] });
      expect(r.status).toBe(200);
      expect(ed25519Verifies(r.json.group_public_b64 as string, message, r.json.signature_b64 as string)).toBe(true);
    }
    expect(cluster.signers[0]!.logs.some((l) => l.includes('connected to the coordinator'))).toBe(true);
  });

  it('gone, it is unhealthy at once and the others sign; back, it connects again and signs', async () => {
    const victim = cluster.signers[0]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    await until(async () => !(await healthy('signer-1')), 5000);
    const message = randomBytes(16);
    const r = await client.sign(message);
    expect(r.status).toBe(200);
    expect(r.json.participants).toEqual([2, 3]);
    const s1 = env.signers[0]!;
    cluster.signers[0] = await startService(s1.id, signerMain(), signerEnv(env, s1, { rpc: 0, ops: 0 }, dialling), { readyMessage: 'signer ready' });
    await until(() => healthy('signer-1'));
    const again = randomBytes(16);
    const pinned = await client.sign(again, { participants: [1, 3] });
    expect(pinned.status).toBe(200);
    expect(ed25519Verifies(pinned.json.group_public_b64 as string, again, pinned.json.signature_b64 as string)).toBe(true);
  }, 60_000);
});
