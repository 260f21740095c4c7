// Health checks: a signer is usable only when it holds a share of exactly our key.
import { describe, expect, it } from '@jest/globals';
import { trustedDealerKeygen } from '@hoarfrost/frost';
import { SignerRegistry } from '../src/registry.js';
import { FakeSigner, fakeDeployment, sample, silentLog } from './fake-signers.js';

describe('SignerRegistry', () => {
  it('learns each signer\'s identifier from its info RPC and marks it healthy', async () => {
    const d = await fakeDeployment(2, 3);
    expect(d.registry.handles.map((h) => h.identifier?.toNumber())).toEqual([1, 2, 3]);
    expect(d.registry.healthyCount()).toBe(3);
    expect(await sample(d.metrics, 'frost_coordinator_signer_healthy', { signer: 'signer-2' })).toBe(1);
    expect(await sample(d.metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-2', rpc: 'info', outcome: 'ok' })).toBe(1);
  });

  it('an unreachable signer is unhealthy, with its call outcome counted once', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.behaviour = 'down';
    await d.registry.checkAll();
    expect(d.registry.handles[0]!.healthy).toBe(false);
    expect(d.registry.healthyCount()).toBe(2);
    expect(await sample(d.metrics, 'frost_coordinator_signer_healthy', { signer: 'signer-1' })).toBe(0);
    expect(await sample(d.metrics, 'frost_coordinator_signer_requests_total', { signer: 'signer-1', rpc: 'info', outcome: 'SIGNER_UNREACHABLE' })).toBe(1);
    // The health check does not feed the breaker (liveness is not correctness).
    expect(d.registry.handles[0]!.breaker.state).toBe('closed');
  });

  it('a signer holding another key, another share, or an identifier claimed twice is unhealthy', async () => {
    const d = await fakeDeployment(2, 3);
    const other = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
    const [kp1, kp2] = [...other.keyPackages.values()];
    const clients: Record<string, FakeSigner> = {
      'other-key': new FakeSigner('other-key', kp1!, other.publicKeyPackage, 'default'),
      // Claims our group key but holds a share of another one.
      'other-share': new FakeSigner('other-share', kp2!, d.pkp, 'default'),
      'twin-a': d.signers[2]!,
      'twin-b': d.signers[2]!,
    };
    const registry = new SignerRegistry({
      config: { signers: Object.keys(clients).map((id) => ({ id, url: `https://${id}:1` })), keyId: 'default', breaker: { failureThreshold: 3, cooldownMs: 1000 } },
      pkp: d.pkp,
      connect: (s) => clients[s.id]!,
      metrics: d.metrics,
      logger: silentLog,
    });
    await registry.checkAll();
    const [otherKey, otherShare, twinA, twinB] = registry.handles;
    expect(otherKey!.healthy).toBe(false);
    expect(otherKey!.lastError).toMatch(/different group key/);
    expect(otherShare!.healthy).toBe(false);
    expect(otherShare!.lastError).toMatch(/verifying share differs/);
    // Of two signers answering with one identifier, only one can hold it.
    expect([twinA!.healthy, twinB!.healthy].filter(Boolean)).toHaveLength(1);
    expect([twinA!, twinB!].find((h) => !h.healthy)!.lastError).toMatch(/also claimed/);
  });

  it('a signer that comes back as a new process (new instance id) has its pooled commitments flushed', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 4 });
    const h = d.registry.handles[0]!;
    d.pool.refill(h);
    await new Promise((r) => setTimeout(r, 20));
    expect(d.pool.size(h)).toBe(4);
    await d.registry.checkAll();
    expect(d.pool.size(h)).toBe(4); // same process: kept
    d.signers[0]!.restart();
    await d.registry.checkAll();
    expect(d.pool.size(h)).toBe(0);
  });

  it('the message limit is the largest t healthy signers accept, at most the configured one: one signer announcing a tiny limit blocks nobody', async () => {
    const d = await fakeDeployment(2, 3);
    expect(d.registry.maxMessageBytes(65_536)).toBe(65_536); // the signers say nothing
    d.signers[0]!.maxMessageBytes = 1; // hostile, or misconfigured
    d.signers[1]!.maxMessageBytes = 1000;
    await d.registry.checkAll();
    expect(d.registry.maxMessageBytes(65_536)).toBe(1000); // signers 3 (no limit of its own) and 2 accept 1000
    d.signers[2]!.maxMessageBytes = 2000;
    await d.registry.checkAll();
    expect(d.registry.maxMessageBytes(65_536)).toBe(1000); // the 2nd largest of 1, 1000, 2000
    expect(d.registry.maxMessageBytes(100)).toBe(100);
    d.registry.handles[1]!.healthy = false; // an unhealthy signer's limit does not count
    expect(d.registry.maxMessageBytes(65_536)).toBe(1);
  });

  it('every signer\'s culprit count exists from the start, at 0', async () => {
    const d = await fakeDeployment(2, 3);
    for (const s of d.signers) {
      const m = (await d.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'frost_coordinator_culprits_total')!;
      expect(m.values.find((v) => v.labels.signer === s.id)?.value).toBe(0);
    }
  });

  it('a signer claiming another\'s participant locks it out unpinned; pinned, only the impostor is unhealthy', async () => {
    for (const pinned of [false, true]) {
      const d = await fakeDeployment(2, 3, { pinned });
      // Signer 3 answers as participant 1, and is checked before signer 1 (a fresh registry).
      d.signers[2]!.keyPackage = d.signers[0]!.keyPackage;
      for (const h of d.registry.handles) {
        h.healthy = false;
        h.identifier = undefined;
      }
      await d.registry.check(d.registry.handles[2]!);
      await d.registry.check(d.registry.handles[0]!);
      await d.registry.check(d.registry.handles[1]!);
      const healthy = d.registry.handles.map((h) => h.healthy);
      expect(healthy).toEqual(pinned ? [true, true, false] : [false, true, true]);
    }
  });

  it('byUrl normalises to the origin and knows only registered signers; byIdentifier finds by identifier', async () => {
    const d = await fakeDeployment(2, 3);
    expect(d.registry.byUrl('https://signer-2.test:7443/')).toBe(d.registry.handles[1]);
    expect(d.registry.byUrl('https://signer-2.test:7444')).toBeUndefined();
    expect(d.registry.byUrl('not a url')).toBeUndefined();
    expect(d.registry.byIdentifier(d.signers[2]!.keyPackage.identifier)).toBe(d.registry.handles[2]);
  });
});
