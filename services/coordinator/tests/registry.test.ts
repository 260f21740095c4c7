// Health checks, and the keys learnt from the signers: a signer is usable for a key only when it holds
// a share of exactly the package every other holder reports (or the pinned one).
import { describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { Identifier, SigningPackage, aggregate, round1, round2, trustedDealerKeygen, type KeyPackage, type PublicKeyPackage } from '@hoarfrost/frost';
import { SignerCallError, activationMessage, encodePublicKeyPackage } from '@hoarfrost/rpc';
import { ApiError } from '../src/errors.js';
import { SignerRegistry } from '../src/registry.js';
import { FakeSigner, addKey, fakeDeployment, sample, silentLog } from './fake-signers.js';

const idsOf = (d: Awaited<ReturnType<typeof fakeDeployment>>, keyId: string) => d.registry.handles.map((h) => h.identifierFor(keyId)?.toNumber());
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  return undefined;
};

describe('SignerRegistry', () => {
  it('learns each signer\'s identifier from its info RPC and marks it healthy', async () => {
    const d = await fakeDeployment(2, 3);
    expect(idsOf(d, 'default')).toEqual([1, 2, 3]);
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

  it('pinned: a signer holding another key, another share, or an identifier claimed twice is not used for the key', async () => {
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
    // They answer, so they are healthy; none but one twin is usable for the pinned key.
    expect(registry.handles.every((h) => h.healthy)).toBe(true);
    expect(otherKey!.identifierFor('default')).toBeUndefined();
    expect(otherShare!.identifierFor('default')).toBeUndefined();
    // Of two signers answering with one identifier, only one can hold it.
    expect([twinA!, twinB!].filter((h) => h.identifierFor('default'))).toHaveLength(1);
    expect(registry.key('default')!.pinned).toBe(true);
    expect([...registry.key('default')!.holders.keys()]).toHaveLength(1);
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
    const max = (configured: number) => d.registry.maxMessageBytes('default', configured);
    expect(max(65_536)).toBe(65_536); // the signers say nothing
    d.signers[0]!.maxMessageBytes = 1; // hostile, or misconfigured
    d.signers[1]!.maxMessageBytes = 1000;
    await d.registry.checkAll();
    expect(max(65_536)).toBe(1000); // signers 3 (no limit of its own) and 2 accept 1000
    d.signers[2]!.maxMessageBytes = 2000;
    await d.registry.checkAll();
    expect(max(65_536)).toBe(1000); // the 2nd largest of 1, 1000, 2000
    expect(max(100)).toBe(100);
    d.registry.handles[1]!.healthy = false; // an unhealthy signer's limit does not count
    expect(max(65_536)).toBe(1);
  });

  it('every signer\'s culprit count exists from the start, at 0', async () => {
    const d = await fakeDeployment(2, 3);
    for (const s of d.signers) {
      const m = (await d.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'frost_coordinator_culprits_total')!;
      expect(m.values.find((v) => v.labels.signer === s.id)?.value).toBe(0);
    }
  });

  it('a signer claiming another\'s participant is refused once a threshold reported, pinned or not (the key is learnt from all reports, not from the first)', async () => {
    for (const pinned of [false, true]) {
      const d = await fakeDeployment(2, 3, { pinned });
      // Signer 3 answers as participant 1, and is checked before signer 1 (a fresh registry).
      d.signers[2]!.keyPackage = d.signers[0]!.keyPackage;
      const registry = new SignerRegistry({
        config: { signers: d.signers.map((s, i) => ({ id: s.id, url: `https://${s.id}.test:7443`, ...(pinned ? { participant: Identifier.fromNumber(i + 1).toHex() } : {}) })), keyId: 'default', breaker: { failureThreshold: 3, cooldownMs: 1000 } },
        connect: (s) => d.signers.find((f) => f.id === s.id)!,
        metrics: d.metrics,
        logger: silentLog,
      });
      await registry.check(registry.handles[2]!);
      await registry.check(registry.handles[0]!);
      await registry.check(registry.handles[1]!);
      expect(registry.handles.map((h) => h.identifierFor('default')?.toNumber())).toEqual([1, 2, undefined]);
      // Once held, an identifier stays with its holder: a later claim by another does not take it.
      await registry.checkAll();
      expect(registry.handles.map((h) => h.identifierFor('default')?.toNumber())).toEqual([1, 2, undefined]);
    }
  });

  it('byUrl normalises to the origin and knows only registered signers; byIdentifier finds by identifier', async () => {
    const d = await fakeDeployment(2, 3);
    expect(d.registry.byUrl('https://signer-2.test:7443/')).toBe(d.registry.handles[1]);
    expect(d.registry.byUrl('https://signer-2.test:7444')).toBeUndefined();
    expect(d.registry.byUrl('not a url')).toBeUndefined();
    expect(d.registry.byIdentifier('default', d.signers[2]!.keyPackage.identifier)).toBe(d.registry.handles[2]);
    expect(d.registry.byIdentifier('mint', d.signers[2]!.keyPackage.identifier)).toBeUndefined();
  });
});

describe('keys learnt from the signers', () => {
  it('learns every key the signers hold, each with its package, state, version and each signer\'s identifier for it', async () => {
    const d = await fakeDeployment(2, 3);
    // Another key, 2-of-2 on signers 2 and 3, where they are participants 7 and 9.
    const mint = await addKey(d, 'mint', { t: 2, on: [1, 2], identifiers: [Identifier.fromNumber(7), Identifier.fromNumber(9)], version: 3, createdAt: 1_700_000_000_000 });
    expect(d.registry.keys().map((k) => k.keyId)).toEqual(['default', 'mint']);
    const key = d.registry.key('mint')!;
    expect(Buffer.from(key.pkp.verifyingKeyBytes)).toEqual(Buffer.from(mint.publicKeyPackage.verifyingKeyBytes));
    expect(key).toMatchObject({ state: 'active', version: 3, createdAt: 1_700_000_000_000, pinned: false });
    expect(idsOf(d, 'mint')).toEqual([undefined, 7, 9]);
    expect(idsOf(d, 'default')).toEqual([1, 2, 3]);
    expect(d.registry.byIdentifier('mint', Identifier.fromNumber(9))).toBe(d.registry.handles[2]);
    expect(d.registry.key('default')!.version).toBe(1); // absent: 1
    expect(await sample(d.metrics, 'frost_coordinator_keys', { state: 'active' })).toBe(2);
  });

  it('refuses a key whose holders report different packages none of which a threshold reports, counting the conflict once; it is known again once they agree', async () => {
    const d = await fakeDeployment(2, 3);
    // Signers 2 and 3 each hold a share of another key set under the same id, consistent in itself.
    const genuine = [1, 2].map((i) => d.signers[i]!.keys.get('default')!);
    for (const i of [1, 2]) {
      const forged = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
      d.signers[i]!.keys.set('default', { keyPackage: [...forged.keyPackages.values()][i]!, pkp: forged.publicKeyPackage });
    }
    await d.registry.checkAll();
    expect(d.registry.key('default')).toBeUndefined();
    expect(codeOf(() => d.registry.signingKey('default'))).toBe('UNKNOWN_KEY');
    expect(idsOf(d, 'default')).toEqual([undefined, undefined, undefined]);
    expect(await sample(d.metrics, 'frost_coordinator_key_conflicts_total')).toBe(1);
    await d.registry.checkAll(); // the same conflict is not counted again
    expect(await sample(d.metrics, 'frost_coordinator_key_conflicts_total')).toBe(1);
    [1, 2].forEach((i, k) => d.signers[i]!.keys.set('default', genuine[k]!));
    await d.registry.checkAll();
    expect(d.registry.key('default')?.state).toBe('active');
    expect(idsOf(d, 'default')).toEqual([1, 2, 3]);
  });

  it('one signer alone never makes a key known (nor published): not a key it made up, nor another package for an existing id while the holders are down', async () => {
    const d = await fakeDeployment(2, 3);
    const made = trustedDealerKeygen({ minSigners: 2, maxSigners: 2 });
    d.signers[2]!.keys.set('evil', { keyPackage: [...made.keyPackages.values()][0]!, pkp: made.publicKeyPackage, state: 'retired' });
    await d.registry.checkAll();
    expect(d.registry.key('evil')).toBeUndefined();
    expect(d.registry.keys().map((k) => k.keyId)).toEqual(['default']);
    // The honest holders go down; the last one standing reports another package for `default`.
    const genuine = Buffer.from(d.registry.key('default')!.pkp.verifyingKeyBytes);
    d.signers[0]!.behaviour = 'down';
    d.signers[1]!.behaviour = 'down';
    const forged = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
    d.signers[2]!.keys.set('default', { keyPackage: [...forged.keyPackages.values()][2]!, pkp: forged.publicKeyPackage, state: 'retired' });
    await d.registry.checkAll();
    expect(Buffer.from(d.registry.key('default')!.pkp.verifyingKeyBytes).equals(genuine)).toBe(true);
    expect(d.registry.key('default')!.state).toBe('active');
  });

  it('one signer reporting another package only leaves itself out: the package a threshold reports is the key', async () => {
    const d = await fakeDeployment(2, 3);
    const forged = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
    d.signers[1]!.keys.set('default', { keyPackage: [...forged.keyPackages.values()][1]!, pkp: forged.publicKeyPackage });
    await d.registry.checkAll();
    expect(d.registry.key('default')?.state).toBe('active');
    expect(Buffer.from(d.registry.key('default')!.pkp.verifyingKeyBytes).equals(Buffer.from(forged.publicKeyPackage.verifyingKeyBytes))).toBe(false);
    expect(idsOf(d, 'default')).toEqual([1, undefined, 3]);
    expect(await sample(d.metrics, 'frost_coordinator_key_conflicts_total')).toBe(0);
  });

  it('a report whose package does not hold its own share is refused for that key alone', async () => {
    const d = await fakeDeployment(2, 3);
    // Signer 3 holds its share but reports a package of another key set (its verifying key, share and package disagree).
    d.signers[2]!.keys.get('default')!.reportedPkp = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 }).publicKeyPackage;
    await d.registry.checkAll();
    expect(d.registry.key('default')?.state).toBe('active');
    expect(idsOf(d, 'default')).toEqual([1, 2, undefined]);
    expect(d.registry.handles[2]!.healthy).toBe(true);
  });

  it('pinned, the configured package wins: a signer reporting another is not used for it, the key stays known', async () => {
    const d = await fakeDeployment(2, 3, { pinnedPkp: true });
    d.signers[0]!.keys.get('default')!.reportedPkp = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 }).publicKeyPackage;
    await d.registry.checkAll();
    expect(d.registry.key('default')?.pinned).toBe(true);
    expect(idsOf(d, 'default')).toEqual([undefined, 2, 3]);
    expect(await sample(d.metrics, 'frost_coordinator_key_conflicts_total')).toBe(0);
  });

  it('a key is active while a threshold of holders report it active; else retired once any holder retired it, else pending; signingKey says so', async () => {
    const d = await fakeDeployment(2, 3);
    // One holder pending (or lying about it) does not take the key out of service.
    d.signers[1]!.keys.get('default')!.state = 'pending';
    await d.registry.checkAll();
    expect(d.registry.key('default')!.state).toBe('active');
    d.signers[2]!.keys.get('default')!.state = 'pending';
    await d.registry.checkAll();
    expect(d.registry.key('default')!.state).toBe('pending');
    expect(codeOf(() => d.registry.signingKey('default'))).toBe('KEY_NOT_ACTIVE');
    d.signers[2]!.keys.get('default')!.state = 'retired';
    await d.registry.checkAll();
    expect(d.registry.key('default')!.state).toBe('retired');
    expect(codeOf(() => d.registry.signingKey('default'))).toBe('KEY_RETIRED');
    expect(await sample(d.metrics, 'frost_coordinator_keys', { state: 'retired' })).toBe(1);
    expect(codeOf(() => d.registry.signingKey('nope'))).toBe('UNKNOWN_KEY');
  });

  it('older signers (no package reported) hold a key learnt from others when their share fits; alone they teach nothing, unless it is pinned', async () => {
    const d = await fakeDeployment(2, 3);
    d.signers[0]!.keys.get('default')!.legacy = true;
    await d.registry.checkAll();
    expect(idsOf(d, 'default')).toEqual([1, 2, 3]);
    for (const s of d.signers) s.keys.get('default')!.legacy = true;
    await d.registry.checkAll();
    expect(d.registry.key('default')).toBeUndefined();
    const pinned = await fakeDeployment(2, 3, { pinnedPkp: true });
    for (const s of pinned.signers) s.keys.get('default')!.legacy = true;
    await pinned.registry.checkAll();
    expect(idsOf(pinned, 'default')).toEqual([1, 2, 3]);
  });

  it('a key stays known while all its signers are down (its public key stays published), with none healthy', async () => {
    const d = await fakeDeployment(2, 3);
    for (const s of d.signers) s.behaviour = 'down';
    await d.registry.checkAll();
    expect(d.registry.healthyCount()).toBe(0);
    expect(d.registry.key('default')?.state).toBe('active');
    expect(d.registry.notReadyReason()).toMatch(/0 of 2 required signers healthy/);
  });

  it('a signer holding no key yet is healthy; without a default key, one healthy signer makes the coordinator ready', async () => {
    const d = await fakeDeployment(2, 3);
    for (const s of d.signers) s.keys.clear();
    await d.registry.checkAll();
    expect(d.registry.healthyCount()).toBe(3);
    expect(d.registry.keys()).toEqual([]);
    expect(d.registry.notReadyReason()).toBeUndefined();
  });

  it('a key some signers report, but fewer than its threshold, is QUORUM_UNAVAILABLE (it exists; it cannot be used now), not UNKNOWN_KEY', async () => {
    const d = await fakeDeployment(2, 3);
    const registry = new SignerRegistry({
      config: { signers: d.signers.map((s) => ({ id: s.id, url: `https://${s.id}.test:7443` })), keyId: 'default', breaker: { failureThreshold: 3, cooldownMs: 1000 } },
      connect: (s) => d.signers.find((f) => f.id === s.id)!,
      metrics: d.metrics,
      logger: silentLog,
    });
    d.signers[0]!.behaviour = 'down';
    d.signers[1]!.behaviour = 'down';
    await registry.checkAll();
    expect(registry.key('default')).toBeUndefined();
    expect(codeOf(() => registry.signingKey('default'))).toBe('QUORUM_UNAVAILABLE');
    expect(codeOf(() => registry.signingKey('nope'))).toBe('UNKNOWN_KEY');
  });

});

/** The activation signature of `pkp` for `session`, made by the given key packages (a threshold of them). */
function activationOf(session: Uint8Array, pkp: PublicKeyPackage, keyPackages: KeyPackage[]): Uint8Array {
  const message = activationMessage(session, createHash('sha256').update(encodePublicKeyPackage(pkp)).digest());
  const committed = keyPackages.map((kp) => ({ kp, ...round1.commit(kp.signingShare) }));
  const pkg = new SigningPackage(committed.map((c) => ({ identifier: c.kp.identifier, commitments: c.commitments })), message);
  const shares = new Map(committed.map((c) => [c.kp.identifier.toHex(), round2.sign(pkg, c.nonces, c.kp)]));
  return aggregate(pkg, shares, pkp).toBytes();
}

describe('activations completed from the health loop', () => {
  /** A 2-of-3 deployment whose signers take activations (recorded), signer 1 alone active so far. */
  async function halfActivated() {
    const d = await fakeDeployment(2, 3);
    const session = new Uint8Array(randomBytes(32));
    const keyPackages = d.signers.map((s) => s.keyPackage);
    const signature = activationOf(session, d.pkp, keyPackages.slice(0, 2));
    const sent: { signer: string; body: { session: Uint8Array; key_id: string; signature: Uint8Array } }[] = [];
    for (const s of d.signers) {
      (s as unknown as { call: (path: string, body: unknown) => Promise<unknown> }).call = async (path, body) => {
        if (s.behaviour === 'down') throw new SignerCallError(s.id, 'SIGNER_UNREACHABLE', 'connection refused');
        const b = body as (typeof sent)[number]['body'];
        sent.push({ signer: s.id, body: b });
        if (path.endsWith('/activate') && Buffer.from(b.signature).equals(Buffer.from(signature))) {
          Object.assign(s.keys.get('default')!, { state: 'active', activation: { session, signature } });
          return { ok: {} };
        }
        return { abort: { code: 'DKG_SESSION_UNKNOWN', message: 'no such pending key', culprits: [], relay_fault: false } };
      };
    }
    Object.assign(d.signers[0]!.keys.get('default')!, { state: 'active', activation: { session, signature } });
    for (const s of d.signers.slice(1)) s.keys.get('default')!.state = 'pending';
    return { d, session, signature, sent };
  }

  const settle = () => new Promise((r) => setTimeout(r, 30));

  it('a key active on fewer than its threshold is finished: the activation signer 1 reports is sent to the others, once, and the key becomes active', async () => {
    const { d, sent } = await halfActivated();
    await d.registry.checkAll();
    expect(d.registry.key('default')!.state).toBe('pending');
    await settle();
    expect(sent.map((x) => x.signer).sort()).toEqual(['signer-2', 'signer-3']);
    await d.registry.checkAll();
    await settle();
    expect(d.registry.key('default')!.state).toBe('active');
    expect(sent).toHaveLength(2); // not sent again
  });

  it('a junk activation a hostile signer reports is checked and dropped; it blocks nobody, and the real one still goes out', async () => {
    const { d, sent, signature } = await halfActivated();
    // Signer 3 claims to be active with an activation whose signature is junk (reported first in registry order would not matter).
    Object.assign(d.signers[2]!.keys.get('default')!, { state: 'active', activation: { session: new Uint8Array(randomBytes(32)), signature: new Uint8Array(randomBytes(64)) } });
    await d.registry.checkAll();
    await settle();
    // Signer 2, still pending, gets the real activation only; the junk one is sent to nobody.
    expect(sent.map((x) => x.signer)).toEqual(['signer-2']);
    expect(Buffer.from(sent[0]!.body.signature).equals(Buffer.from(signature))).toBe(true);
    await d.registry.checkAll();
    await settle();
    expect(d.registry.key('default')!.state).toBe('active');
  });

  it('an activation a signer signs under a package of its own making reaches nobody (each health round, a new one: no spam, nothing kept)', async () => {
    const d = await fakeDeployment(2, 3);
    const asked: string[] = [];
    for (const s of d.signers) {
      (s as unknown as { call: (path: string) => Promise<unknown> }).call = async (path) => {
        asked.push(`${s.id} ${path}`);
        throw new SignerCallError(s.id, 'DKG_SESSION_UNKNOWN', 'no pending key of that session');
      };
    }
    for (let round = 0; round < 3; round++) {
      // Signer 3 makes up a 2-of-2 key under the id `default`, and a valid activation of it, every round.
      const made = trustedDealerKeygen({ minSigners: 2, maxSigners: 2 });
      const session = new Uint8Array(randomBytes(32));
      const kps = [...made.keyPackages.values()];
      Object.assign(d.signers[2]!.keys.get('default')!, { keyPackage: kps[1]!, pkp: made.publicKeyPackage, state: 'active', activation: { session, signature: activationOf(session, made.publicKeyPackage, kps) } });
      await d.registry.checkAll();
      await settle();
    }
    expect(asked).toEqual([]);
    expect(d.registry.key('default')!.state).toBe('active');
  });

  it('a junk activation that reuses the real session, reported before the real one, does not stand for it: the real one still goes out', async () => {
    const { d, sent, session, signature } = await halfActivated();
    // Signer 3 reports the real session with a junk signature; signer 1 reports nothing active yet.
    const real = d.signers[0]!.keys.get('default')!;
    Object.assign(d.signers[2]!.keys.get('default')!, { state: 'active', activation: { session, signature: new Uint8Array(randomBytes(64)) } });
    real.state = 'pending';
    delete real.activation;
    await d.registry.checkAll();
    await settle();
    expect(sent).toEqual([]);
    Object.assign(real, { state: 'active', activation: { session, signature } });
    await d.registry.checkAll();
    await settle();
    expect(sent.map((x) => x.signer)).toEqual(['signer-2']);
    expect(Buffer.from(sent[0]!.body.signature).equals(Buffer.from(signature))).toBe(true);
  });

  it('a signer that refuses the activation (no matching pending version) is not asked again for that session', async () => {
    const { d } = await halfActivated();
    const asked: string[] = [];
    (d.signers[2] as unknown as { call: (path: string) => Promise<unknown> }).call = async (path) => {
      asked.push(path);
      // As the real client reports a signer's refusal.
      throw new SignerCallError('signer-3', 'DKG_SESSION_UNKNOWN', 'no pending key of that session');
    };
    for (let i = 0; i < 3; i++) {
      await d.registry.checkAll();
      await settle();
    }
    expect(asked).toEqual(['/v1/keygen/activate']);
  });

  it('a signer that was not reached is sent the activation again at the next health round', async () => {
    const { d, sent } = await halfActivated();
    d.signers[2]!.behaviour = 'down';
    await d.registry.checkAll();
    await settle();
    expect(sent.map((x) => x.signer)).toEqual(['signer-2']);
    d.signers[2]!.behaviour = 'ok';
    await d.registry.checkAll();
    await settle();
    expect(sent.map((x) => x.signer).sort()).toEqual(['signer-2', 'signer-3']);
  });
});
