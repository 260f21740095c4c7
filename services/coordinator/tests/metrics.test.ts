// The coordinator's metrics of its signer clients: the channel's state and connections, and the calls
// each round-1 and round-2 RPC carries, as a real client over a real channel moves them.
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ChannelServer, RPC_PATHS, RpcTokenSigner, SignerClient, decodeCbor, encodeCbor, type ChannelAnswer } from '@hoarfrost/rpc';
import { createCertificateAuthority, type CertificateAuthority, type CertificatePair } from '@hoarfrost/testkit';
import { CHANNEL_CONNECT_OUTCOMES, createCoordinatorMetrics, signerClientMetricHooks, type CoordinatorMetrics } from '../src/metrics.js';
import { sample } from './fake-signers.js';

const b32 = (fill: number) => new Uint8Array(32).fill(fill);
const cborAnswer = (value: unknown): ChannelAnswer => ({ status: 200, body: encodeCbor(value) });
const round2Request = (n: number) => ({ key_id: 'default', message: Uint8Array.of(n), commitments: [{ identifier: b32(1), hiding: b32(2), binding: b32(3) }] });

let authority: CertificateAuthority;
let signer: CertificatePair;
let coordinator: CertificatePair;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  authority = await createCertificateAuthority('metrics test CA');
  signer = await authority.issue({ commonName: 'signer-1', dnsNames: ['signer-1'], usages: ['server'] });
  coordinator = await authority.issue({ commonName: 'coordinator', dnsNames: ['coordinator'], usages: ['client'] });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

/** A signer offering the channel; `answer` answers its frames. */
async function startSigner(answer: { fn: (path: string, body: unknown) => ChannelAnswer | Promise<ChannelAnswer> }) {
  const channels = new ChannelServer({ maxRequestBytes: 64 * 1024, handle: async (f) => answer.fn(f.path, decodeCbor(f.body)) });
  const server: Server = createServer({ cert: signer.certPem, key: signer.keyPem, ca: authority.certPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => channels.upgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const s = {
    port: (server.address() as AddressInfo).port,
    channels,
    async close() {
      await channels.close(0);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  open.push(s);
  return s;
}

function client(port: number, metrics: CoordinatorMetrics): SignerClient {
  const { privateKey } = generateKeyPairSync('ed25519');
  const c = new SignerClient({
    id: 'signer-1',
    url: `https://127.0.0.1:${port}`,
    caPem: authority.certPem,
    certPem: coordinator.certPem,
    keyPem: coordinator.keyPem,
    tokens: new RpcTokenSigner({ privateKey, kid: 'k1', issuer: 'coordinator' }),
    maxInFlight: 1,
    ...signerClientMetricHooks(metrics, 'signer-1', true),
  });
  open.unshift(c);
  return c;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
}

/** The coalescing histogram's series for one signer and RPC: count, sum and cumulative buckets. */
async function coalesced(metrics: CoordinatorMetrics, rpc: string): Promise<{ count: number; sum: number; le: Record<string, number> }> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'frost_coordinator_coalesced_requests')!;
  const own = m.values.filter((v) => v.labels.signer === 'signer-1' && v.labels.rpc === rpc) as { metricName: string; labels: Record<string, string | number>; value: number }[];
  const of = (suffix: string) => own.find((v) => v.metricName.endsWith(suffix))?.value ?? 0;
  return { count: of('_count'), sum: of('_sum'), le: Object.fromEntries(own.filter((v) => v.metricName.endsWith('_bucket')).map((v) => [String(v.labels.le), v.value])) };
}

describe('signer client metrics', () => {
  it('start at "no connection" with every connection outcome at 0, or at 3 (no channel) for an HTTP/1.1-only client', async () => {
    const metrics = createCoordinatorMetrics(() => true);
    signerClientMetricHooks(metrics, 'signer-1', true);
    signerClientMetricHooks(metrics, 'signer-2', false);
    expect(await sample(metrics, 'frost_coordinator_signer_channel_state', { signer: 'signer-1' })).toBe(0);
    expect(await sample(metrics, 'frost_coordinator_signer_channel_state', { signer: 'signer-2' })).toBe(3);
    const connects = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'frost_coordinator_signer_channel_connects_total')!;
    expect(connects.values.map((v) => [v.labels.signer, v.labels.outcome, v.value])).toEqual(CHANNEL_CONNECT_OUTCOMES.map((o) => ['signer-1', o, 0]));
  });

  it('follow a real channel: opened → state 2; lost when the signer goes away; state 0 once closed', async () => {
    const metrics = createCoordinatorMetrics(() => true);
    const s = await startSigner({ fn: () => cborAnswer({ identifier: b32(1), keys: [] }) });
    const c = client(s.port, metrics);
    await c.info();
    expect(await sample(metrics, 'frost_coordinator_signer_channel_state', { signer: 'signer-1' })).toBe(2);
    expect(await sample(metrics, 'frost_coordinator_signer_channel_connects_total', { signer: 'signer-1', outcome: 'opened' })).toBe(1);
    expect(await sample(metrics, 'frost_coordinator_signer_channel_connects_total', { signer: 'signer-1', outcome: 'lost' })).toBe(0);
    await s.close();
    await until(async () => (await sample(metrics, 'frost_coordinator_signer_channel_connects_total', { signer: 'signer-1', outcome: 'lost' })) === 1);
    expect(await sample(metrics, 'frost_coordinator_signer_channel_connects_total', { signer: 'signer-1', outcome: 'lost' })).toBe(1);
    await c.close();
    expect(await sample(metrics, 'frost_coordinator_signer_channel_state', { signer: 'signer-1' })).toBe(0);
  });

  it('record the calls each round-2 and round-1 RPC carries: one alone, then the ones that piled up as one', async () => {
    const metrics = createCoordinatorMetrics(() => true);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let next = 0;
    const s = await startSigner({
      fn: async (path, body) => {
        if (path === RPC_PATHS.info) return cborAnswer({ identifier: b32(1), keys: [], max_round2_batch: 8, max_request_bytes: 64 * 1024, max_commitment_batch: 16 });
        if (path === RPC_PATHS.round1) {
          await gate;
          const { count } = body as { count: number };
          return cborAnswer({ identifier: b32(1), commitments: Array.from({ length: count }, () => ({ hiding: b32(++next), binding: b32(100) })), ttl_ms: 1000 });
        }
        if (path === RPC_PATHS.round2) {
          await gate;
          return cborAnswer({ identifier: b32(1), share: b32(9) });
        }
        const { requests } = body as { requests: { message: Uint8Array }[] };
        return cborAnswer({ results: requests.map((r) => ({ identifier: b32(1), share: b32(r.message[0]!) })) });
      },
    });
    const c = client(s.port, metrics);
    await c.info();
    const round2 = [1, 2, 3, 4, 5].map((n) => c.round2(round2Request(n)));
    const round1 = [1, 2, 3].map((count) => c.round1({ key_id: 'default', count }));
    await new Promise((r) => setTimeout(r, 50));
    release();
    await Promise.all([...round2, ...round1]);
    // Round 2: [1] went at once, [2, 3, 4, 5] waited and went as one batch.
    expect(await coalesced(metrics, 'round2')).toEqual({ count: 2, sum: 5, le: { '1': 1, '2': 1, '4': 2, '8': 2, '16': 2, '32': 2, '64': 2, '+Inf': 2 } });
    // Round 1: one call alone, then two as one RPC.
    expect(await coalesced(metrics, 'round1')).toMatchObject({ count: 2, sum: 3, le: { '1': 1, '2': 2 } });
  });
});
