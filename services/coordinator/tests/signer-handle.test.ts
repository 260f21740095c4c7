// The one instrumented way of calling a signer: outcome, latency, breaker and identity, per RPC.
import { describe, expect, it } from '@jest/globals';
import { SignerCallError } from '@hoarfrost/rpc';
import { failureKind } from '../src/signer-handle.js';
import { fakeDeployment, sample } from './fake-signers.js';

describe('failureKind', () => {
  it.each([
    ['POLICY_NOT_JWS', 'policy'],
    ['POLICY_JWS_MISSING_CLAIM', 'policy'],
    ['UNKNOWN_COMMITMENT', 'stale'],
    ['COMMITMENT_EXPIRED', 'stale'],
    ['SIGNER_INVALID_RESPONSE', 'culprit'],
    ['COMMITMENT_ALREADY_USED', 'fault'],
    ['TOKEN_EXPIRED', 'fault'],
    ['SIGNER_TIMEOUT', 'fault'],
    ['SIGNER_IDENTITY_CHANGED', 'fault'],
    ['SIGNER_ERROR', 'fault'],
  ] as const)('%s is a %s', (code, kind) => {
    expect(failureKind(new SignerCallError('s', code, 'x'))).toBe(kind);
  });
});

describe('SignerHandle', () => {
  it('a successful call counts ok, observes latency and closes the breaker', async () => {
    const d = await fakeDeployment(2, 3, { failureThreshold: 1, cooldownMs: 0 });
    const h = d.registry.handles[0]!;
    h.breaker.failure();
    const r = await h.commit('default', 3);
    expect(r.commitments).toHaveLength(3);
    expect(r.ttlMs).toBe(60_000);
    expect(h.breaker.state).toBe('closed');
    expect(await sample(d.metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-1', rpc: 'round1', outcome: 'ok' })).toBe(1);
    const latency = (await d.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'frost_coordinator_signer_request_duration_seconds')!;
    expect(latency.values.some((v) => v.labels.signer === 'signer-1' && v.labels.rpc === 'round1' && (v as { metricName?: string }).metricName?.endsWith('_count') && v.value === 1)).toBe(true);
  });

  it('an answer from another identifier is SIGNER_IDENTITY_CHANGED, counted and a breaker failure', async () => {
    const d = await fakeDeployment(2, 3, { failureThreshold: 1 });
    d.signers[1]!.behaviour = 'impostor';
    await expect(d.registry.handles[1]!.commit('default', 1)).rejects.toMatchObject({ code: 'SIGNER_IDENTITY_CHANGED' });
    expect(d.registry.handles[1]!.breaker.state).toBe('open');
    expect(await sample(d.metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-2', rpc: 'round1', outcome: 'SIGNER_IDENTITY_CHANGED' })).toBe(1);
  });

  it('policy refusals and stale commitments leave the breaker closed; faults count towards opening it', async () => {
    const d = await fakeDeployment(2, 3, { failureThreshold: 2 });
    const h = d.registry.handles[0]!;
    d.signers[0]!.behaviour = 'refuse';
    for (let i = 0; i < 3; i++) await expect(h.sign({ key_id: 'default', message: new Uint8Array(1), commitments: [] })).rejects.toMatchObject({ code: 'POLICY_NOT_JWS' });
    expect(h.breaker.state).toBe('closed');
    d.signers[0]!.behaviour = 'down';
    await expect(h.commit('default', 1)).rejects.toBeInstanceOf(SignerCallError);
    expect(h.breaker.state).toBe('closed');
    await expect(h.commit('default', 1)).rejects.toBeInstanceOf(SignerCallError);
    expect(h.breaker.state).toBe('open');
  });

  it('a non-canonical share is SIGNER_INVALID_RESPONSE and opens the breaker at once', async () => {
    const d = await fakeDeployment(2, 2, { failureThreshold: 5 });
    const [a, b] = d.registry.handles;
    d.signers[1]!.behaviour = 'bad-share';
    const ca = await d.pool.fetch(a!);
    const cb = await d.pool.fetch(b!);
    const { SigningPackage } = await import('@hoarfrost/frost');
    const { encodeRound2Request } = await import('@hoarfrost/rpc');
    const pkg = new SigningPackage([{ identifier: a!.identifierFor('default')!, commitments: ca }, { identifier: b!.identifierFor('default')!, commitments: cb }], new Uint8Array([1, 2]));
    await expect(b!.sign(encodeRound2Request('default', pkg))).rejects.toMatchObject({ code: 'SIGNER_INVALID_RESPONSE' });
    expect(b!.breaker.state).toBe('open');
  });

  it('info leaves the breaker alone', async () => {
    const d = await fakeDeployment(2, 3, { failureThreshold: 1 });
    d.signers[2]!.behaviour = 'down';
    await expect(d.registry.handles[2]!.info()).rejects.toMatchObject({ code: 'SIGNER_UNREACHABLE' });
    expect(d.registry.handles[2]!.breaker.state).toBe('closed');
  });
});
