// Signer-dials mode with a replicated coordinator, as real processes: two coordinators (as two pods
// behind one headless Service) listen for signers on the same port at 127.0.0.1 and 127.0.0.2, and
// signer 1 dials one name that resolves to both. Each coordinator sends RPCs only on connections it
// holds, so the signer must keep one to each: both then sign with it. The name's two addresses come
// from a preload (hosts-preload.mjs) answering as a cluster's DNS would; everything else is real.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  coordinatorEnv,
  coordinatorMain,
  createDevEnvironment,
  loadCertificateAuthority,
  startCluster,
  startService,
  type Cluster,
  type DevEnvironment,
  type ServiceProcess,
} from '@hoarfrost/testkit';
import { MintClient, ed25519Verifies, metricValue, readPem } from '@hoarfrost/testkit/support';

const COORDINATORS_NAME = 'frost-coordinator-signers.test';
const preload = new URL('./hosts-preload.mjs', import.meta.url).href;

let env: DevEnvironment;
let cluster: Cluster;
let second: ServiceProcess | undefined;
let listenPort: number;
const clients: MintClient[] = [];
const opsUrls: string[] = [];

const inbound = (urls: Record<string, string>) => ({ ...urls, 'signer-1': 'inbound' });

/** A port free on both loopback addresses right now. */
async function freePort(): Promise<number> {
  for (;;) {
    const a = createServer();
    await new Promise<void>((resolve) => a.listen(0, '127.0.0.1', resolve));
    const port = (a.address() as { port: number }).port;
    const b = createServer();
    const free = await new Promise<boolean>((resolve) => {
      b.once('error', () => resolve(false));
      b.listen(port, '127.0.0.2', () => resolve(true));
    });
    if (free) await new Promise<void>((resolve) => b.close(() => resolve()));
    await new Promise<void>((resolve) => a.close(() => resolve()));
    if (free) return port;
  }
}

/** The second coordinator: the same signers, its signer listener at 127.0.0.2 on the first one's port. */
async function startSecond(): Promise<void> {
  second = await startService(
    'coordinator-2',
    coordinatorMain(),
    coordinatorEnv(env, inbound(cluster.signerUrls), { api: 0, ops: 0 }, {
      COORDINATOR_HEALTH_INTERVAL_MS: '1000',
      COORDINATOR_SIGNER_LISTEN_HOST: '127.0.0.2',
      COORDINATOR_SIGNER_LISTEN_PORT: String(listenPort),
    }),
    { readyMessage: 'coordinator ready' },
  );
  await clients[1]?.close();
  clients[1] = new MintClient(env, `https://127.0.0.1:${second.ports.port}`);
  opsUrls[1] = `http://127.0.0.1:${second.ports.opsPort}`;
}

beforeAll(async () => {
  env = await createDevEnvironment(mkdtempSync(join(tmpdir(), 'frost-dials-replicas-')), { threshold: 2, signers: 3 });
  // A signer that dials out presents its certificate as a TLS client: it needs the client-auth usage.
  const ca = await loadCertificateAuthority(readPem(env.caFile), readPem(join(env.dir, 'ca-key.pem')));
  const pair = await ca.issue({ commonName: 'signer-1', dnsNames: ['signer-1', 'localhost'], ipAddresses: ['127.0.0.1'], usages: ['server', 'client'] });
  const certFile = join(env.dir, 'signer-1-dialling.pem');
  const keyFile = join(env.dir, 'signer-1-dialling-key.pem');
  writeFileSync(certFile, pair.certPem);
  writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
  listenPort = await freePort();
  const dialling = {
    SIGNER_TLS_CERT_FILE: certFile,
    SIGNER_TLS_KEY_FILE: keyFile,
    SIGNER_COORDINATOR_URL: `https://${COORDINATORS_NAME}:${listenPort}`,
    SIGNER_COORDINATOR_RESOLVE_INTERVAL_MS: '500',
    FROST_TEST_HOSTS: `${COORDINATORS_NAME}=127.0.0.1|127.0.0.2`,
  };
  cluster = await startCluster(env, {
    signerExtraEnv: (i): Record<string, string> => (i === 1 ? dialling : {}),
    coordinatorSignerUrls: inbound,
    coordinatorExtraEnv: { COORDINATOR_SIGNER_LISTEN_HOST: '127.0.0.1', COORDINATOR_SIGNER_LISTEN_PORT: String(listenPort) },
    execArgv: ['--import', preload],
  });
  clients[0] = new MintClient(env, cluster.url);
  opsUrls[0] = cluster.opsUrl;
  await startSecond();
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await second?.stop();
  await cluster?.stop();
});

async function until(ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const healthy = async (opsUrl: string, id: string) => metricValue(await (await fetch(`${opsUrl}/metrics`)).text(), 'frost_coordinator_signer_healthy', { signer: id }) === 1;

describe('a signer that dials a replicated coordinator', () => {
  it('keeps a connection to each replica its name resolves to; both sign with it', async () => {
    await until(async () => (await healthy(opsUrls[0]!, 'signer-1')) && (await healthy(opsUrls[1]!, 'signer-1')));
    for (const [i, client] of clients.entries()) {
      for (const participants of [
        [1, 2],
        [1, 3],
      ]) {
        const message = randomBytes(24);
        const r = await client.sign(message, { participants });
        expect({ coordinator: i + 1, participants, status: r.status }).toEqual({ coordinator: i + 1, participants, status: 200 });
        expect(r.json.participants).toEqual(participants);
        expect(ed25519Verifies(r.json.group_public_b64 as string, message, r.json.signature_b64 as string)).toBe(true);
      }
    }
    const connected = cluster.signers[0]!.logs.filter((l) => l.includes('connected to the coordinator')).map((l) => (JSON.parse(l) as { address?: string }).address);
    expect(new Set(connected)).toEqual(new Set(['127.0.0.1', '127.0.0.2']));
  });

  it('a replica that stops and starts again is dialled again; the other signs meanwhile', async () => {
    await second!.stop();
    const message = randomBytes(16);
    const r = await clients[0]!.sign(message, { participants: [1, 2] });
    expect(r.status).toBe(200);
    expect(ed25519Verifies(r.json.group_public_b64 as string, message, r.json.signature_b64 as string)).toBe(true);
    await startSecond();
    await until(() => healthy(opsUrls[1]!, 'signer-1'));
    const again = randomBytes(16);
    const r2 = await clients[1]!.sign(again, { participants: [1, 3] });
    expect(r2.status).toBe(200);
    expect(ed25519Verifies(r2.json.group_public_b64 as string, again, r2.json.signature_b64 as string)).toBe(true);
  }, 60_000);
});
