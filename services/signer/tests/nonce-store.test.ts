import { describe, expect, it } from '@jest/globals';
import { round1, toHex, trustedDealerKeygen } from '@hoarfrost/frost';
import { NonceStore, commitmentId } from '../src/nonce-store.js';

const kp = [...trustedDealerKeygen({ minSigners: 2, maxSigners: 2 }).keyPackages.values()][0]!;
const fresh = () => round1.commit(kp.signingShare).nonces;

describe('commitmentId', () => {
  it('is the hex of hiding ‖ binding, the id a signing package names the nonce by', () => {
    const { commitments } = fresh();
    const id = commitmentId(commitments.hidingBytes, commitments.bindingBytes);
    expect(id).toBe(toHex(commitments.hidingBytes) + toHex(commitments.bindingBytes));
    expect(id).toMatch(/^[0-9a-f]{128}$/);
    // The same id the protocol library gives the pair.
    expect(id).toBe(commitments.toHex());
  });

  it('is order-sensitive: binding ‖ hiding names another (unknown) commitment', () => {
    const { commitments } = fresh();
    expect(commitmentId(commitments.bindingBytes, commitments.hidingBytes)).not.toBe(commitmentId(commitments.hidingBytes, commitments.bindingBytes));
  });

  it('is what add stores under, so bytes that came over the wire find the nonce', () => {
    const s = new NonceStore({ max: 10, ttlMs: 60_000 });
    const n = fresh();
    const id = s.add('k', n);
    expect(id).toBe(commitmentId(n.commitments.hidingBytes, n.commitments.bindingBytes));
    // Copies in other buffer types (a CBOR decoder hands out Buffers at arbitrary offsets).
    const framed = Buffer.concat([Buffer.from([0xaa]), n.commitments.hidingBytes, n.commitments.bindingBytes]);
    const hiding = framed.subarray(1, 33);
    const binding = framed.subarray(33, 65);
    expect(s.claim(commitmentId(binding, hiding), 'k')).toEqual({ error: 'UNKNOWN_COMMITMENT' });
    const claimed = s.claim(commitmentId(hiding, binding), 'k');
    expect('nonces' in claimed && claimed.nonces).toBe(n);
  });
});

describe('NonceStore', () => {
  it('hands a nonce out once, then reports reuse', () => {
    const s = new NonceStore({ max: 10, ttlMs: 60_000 });
    const id = s.add('k', fresh());
    expect('nonces' in s.claim(id, 'k')).toBe(true);
    expect(s.claim(id, 'k')).toEqual({ error: 'COMMITMENT_ALREADY_USED' });
    expect(s.claim('00'.repeat(64), 'k')).toEqual({ error: 'UNKNOWN_COMMITMENT' });
  });

  it('a claim under the wrong key id burns the nonce', () => {
    const s = new NonceStore({ max: 10, ttlMs: 60_000 });
    const n = fresh();
    const id = s.add('a', n);
    expect(s.claim(id, 'b')).toEqual({ error: 'COMMITMENT_KEY_MISMATCH' });
    expect(n.used).toBe(true);
    expect(s.claim(id, 'a')).toEqual({ error: 'COMMITMENT_ALREADY_USED' });
  });

  it('expires by age and evicts oldest beyond the bound, discarding the secrets', () => {
    let now = 1000;
    const dropped: string[] = [];
    const s = new NonceStore({ max: 3, ttlMs: 100, now: () => now });
    s.onDrop = (r) => dropped.push(r);
    const first = fresh();
    const ids = [s.add('k', first), s.add('k', fresh()), s.add('k', fresh()), s.add('k', fresh())];
    expect(s.size).toBe(3);
    expect(first.used).toBe(true);
    expect(s.claim(ids[0]!, 'k')).toEqual({ error: 'COMMITMENT_EXPIRED' });
    now += 101;
    s.sweep();
    expect(s.size).toBe(0);
    expect(dropped).toEqual(['evicted', 'expired', 'expired', 'expired']);
    expect(s.claim(ids[3]!, 'k')).toEqual({ error: 'COMMITMENT_EXPIRED' });
  });

  it('an entry past its ttl is refused even before a sweep, and counts as dropped (expired) once', () => {
    let now = 0;
    const dropped: string[] = [];
    const s = new NonceStore({ max: 3, ttlMs: 10, now: () => now });
    s.onDrop = (r) => dropped.push(r);
    const n = fresh();
    const id = s.add('k', n);
    now = 11;
    expect(s.claim(id, 'k')).toEqual({ error: 'COMMITMENT_EXPIRED' });
    expect(n.used).toBe(true);
    expect(s.size).toBe(0);
    // Regression: such a nonce was never counted as dropped, and a second claim called it used.
    expect(dropped).toEqual(['expired']);
    expect(s.claim(id, 'k')).toEqual({ error: 'COMMITMENT_EXPIRED' });
    s.sweep();
    expect(dropped).toEqual(['expired']);
  });

  it('clear forgets and discards every nonce (shutdown)', () => {
    const s = new NonceStore({ max: 10, ttlMs: 60_000 });
    const held = [fresh(), fresh(), fresh()];
    const ids = held.map((n) => s.add('k', n));
    s.clear();
    expect(s.size).toBe(0);
    for (const n of held) expect(n.used).toBe(true);
    for (const id of ids) expect('error' in s.claim(id, 'k')).toBe(true);
  });

  it('remembers consumed ids only up to twice its bound', () => {
    const s = new NonceStore({ max: 2, ttlMs: 60_000 });
    const used = Array.from({ length: 6 }, () => {
      const id = s.add('k', fresh());
      s.claim(id, 'k');
      return id;
    });
    // The oldest two tombstones were forgotten; the four newest are still reported precisely.
    expect(used.map((id) => s.claim(id, 'k'))).toEqual([
      { error: 'UNKNOWN_COMMITMENT' },
      { error: 'UNKNOWN_COMMITMENT' },
      ...Array.from({ length: 4 }, () => ({ error: 'COMMITMENT_ALREADY_USED' })),
    ]);
  });

  it.each([
    [{ max: 0, ttlMs: 1 }, /max must be a positive integer/],
    [{ max: 1.5, ttlMs: 1 }, /max must be a positive integer/],
    [{ max: 1, ttlMs: 0 }, /ttlMs must be positive/],
    [{ max: 1, ttlMs: Number.NaN }, /ttlMs must be positive/],
  ])('refuses bounds %j', (options, message) => {
    expect(() => new NonceStore(options)).toThrow(message);
  });
});
