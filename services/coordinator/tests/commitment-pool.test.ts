// The per-signer pools of preprocessed commitments, against fake signers.
import { describe, expect, it } from '@jest/globals';
import { FrostError } from '@hoarfrost/frost';
import { validCommitments } from '../src/commitment-pool.js';
import { fakeDeployment, sample } from './fake-signers.js';

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('CommitmentPool', () => {
  it('refills in batches up to its size and hands each commitment out once', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 8 });
    const h = d.registry.handles[0]!;
    d.pool.refill(h);
    d.pool.refill(h); // a refill already under way is not doubled
    await settle();
    expect(d.signers[0]!.round1Counts).toEqual([4]);
    expect(d.pool.size(h)).toBe(4);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const c = d.pool.take(h)!;
      expect(seen.has(c.toHex())).toBe(false);
      seen.add(c.toHex());
      await settle();
    }
    // Taking below half refilled it; it never exceeds its size.
    expect(d.pool.size(h)).toBeGreaterThan(0);
    expect(d.pool.size(h)).toBeLessThanOrEqual(8);
  });

  it('a refill answered with more commitments than asked is refused, not pooled', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 8 });
    const h = d.registry.handles[0]!;
    d.signers[0]!.behaviour = 'flood';
    d.pool.refill(h);
    await settle();
    expect(d.pool.size(h)).toBe(0);
    expect(await sample(d.metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-1', rpc: 'round1', outcome: 'SIGNER_BAD_RESPONSE' })).toBe(1);
  });

  it('with size 0 nothing is pooled and fetch runs round 1 for one commitment', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 0 });
    const h = d.registry.handles[1]!;
    d.pool.refill(h);
    expect(d.pool.take(h)).toBeUndefined();
    const c = await d.pool.fetch(h);
    expect(c.hidingBytes).toHaveLength(32);
    expect(d.signers[1]!.round1Counts).toEqual([1]);
  });

  // Regression (issue 12): every pooled commitment was validated on the coordinator, though each
  // signer of a package validates the others' itself; validation now waits for a signer's refusal
  // (orchestrator.test.ts convicts the issuer then).
  it('hands commitments on as the signer sent them: an invalid one is not validated here', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 4 });
    const h = d.registry.handles[2]!;
    d.signers[2]!.behaviour = 'bad-point';
    d.pool.refill(h);
    await settle();
    const c = d.pool.take(h)!;
    expect(c.hidingBytes).toHaveLength(32);
    expect(validCommitments(c)).toBeInstanceOf(FrostError);
    expect(h.breaker.state).toBe('closed');
    const fetched = await d.pool.fetch(h);
    expect(validCommitments(fetched)).toBeInstanceOf(FrostError);
  });

  it('validCommitments validates both encodings: good ones come back validated', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 0 });
    const c = await d.pool.fetch(d.registry.handles[0]!);
    const v = validCommitments(c);
    expect(v).not.toBeInstanceOf(FrostError);
    expect((v as typeof c).equals(c)).toBe(true);
  });

  it('takeMany and fetchMany: up to n pooled, and n fetched in round-1 requests no larger than the signer takes', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 8 });
    const h = d.registry.handles[0]!;
    d.pool.refill(h);
    await settle();
    expect(d.pool.takeMany(h, 10)).toHaveLength(4);
    h.maxCommitmentBatch = 3;
    d.signers[0]!.round1Counts.length = 0;
    const got = await d.pool.fetchMany(h, 7);
    expect(got).toHaveLength(7);
    expect(new Set(got.map((c) => c.toHex())).size).toBe(7);
    expect(d.signers[0]!.round1Counts.filter((n) => n !== 4).sort()).toEqual([1, 3, 3]);
  });

  it('sends nothing to a signer whose breaker is open, and refills a half-open one as its trial', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 4, failureThreshold: 1, cooldownMs: 0 });
    const h = d.registry.handles[0]!;
    const opened = await fakeDeployment(2, 3, { poolSize: 4, failureThreshold: 1, cooldownMs: 60_000 });
    opened.registry.handles[0]!.breaker.failure();
    opened.pool.refill(opened.registry.handles[0]!);
    await settle();
    expect(opened.signers[0]!.calls.round1).toBe(0);
    h.breaker.failure();
    expect(h.breaker.state).toBe('half-open');
    d.pool.refill(h);
    await settle();
    expect(d.signers[0]!.calls.round1).toBe(1);
    expect(h.breaker.state).toBe('closed');
  });

  it('a half-open signer gets its trial even when its pool is full or preprocessing is off', async () => {
    for (const poolSize of [0, 4]) {
      const d = await fakeDeployment(2, 3, { poolSize, failureThreshold: 1, cooldownMs: 0 });
      const h = d.registry.handles[0]!;
      d.pool.refill(h);
      await settle();
      const before = d.signers[0]!.calls.round1;
      h.breaker.failure();
      expect(h.breaker.state).toBe('half-open');
      d.pool.refill(h);
      await settle();
      expect(d.signers[0]!.calls.round1).toBe(before + 1);
      expect(h.breaker.state).toBe('closed');
      expect(d.pool.size(h)).toBe(poolSize);
    }
  });

  it('expired commitments do not count: a pool of expired entries is refilled', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 4 });
    const h = d.registry.handles[0]!;
    // Usable for ttl × 0.8 − 1 s: 40 ms here.
    d.signers[0]!.ttlMs = 1300;
    d.pool.refill(h);
    await settle();
    expect(d.pool.size(h)).toBe(4);
    await new Promise((r) => setTimeout(r, 60));
    expect(d.pool.size(h)).toBe(0);
    d.signers[0]!.ttlMs = 60_000;
    d.pool.refill(h);
    await settle();
    expect(d.signers[0]!.calls.round1).toBe(2);
    expect(d.pool.size(h)).toBe(4);
  });

  it('flush forgets a signer\'s pool and close forgets everything', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 4 });
    for (const h of d.registry.handles) d.pool.refill(h);
    await settle();
    d.pool.flush(d.registry.handles[0]!);
    expect(d.registry.handles.map((h) => d.pool.size(h))).toEqual([0, 4, 4]);
    d.pool.close();
    expect(d.registry.handles.map((h) => d.pool.size(h))).toEqual([0, 0, 0]);
    d.pool.refill(d.registry.handles[1]!);
    await settle();
    expect(d.pool.size(d.registry.handles[1]!)).toBe(0);
  });

  it('rejects bad options at construction', async () => {
    const { CommitmentPool } = await import('../src/commitment-pool.js');
    expect(() => new CommitmentPool({ size: -1, batch: 1 })).toThrow(RangeError);
    expect(() => new CommitmentPool({ size: 1, batch: 0 })).toThrow(RangeError);
  });
});
