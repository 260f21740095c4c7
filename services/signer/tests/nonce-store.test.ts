import { describe, expect, it } from '@jest/globals';
import { round1, trustedDealerKeygen } from '@hoarfrost/frost';
import { NonceStore } from '../src/nonce-store.js';

const kp = [...trustedDealerKeygen({ minSigners: 2, maxSigners: 2 }).keyPackages.values()][0]!;
const fresh = () => round1.commit(kp.signingShare).nonces;

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

  it('an entry past its ttl is refused even before a sweep', () => {
    let now = 0;
    const s = new NonceStore({ max: 3, ttlMs: 10, now: () => now });
    const id = s.add('k', fresh());
    now = 11;
    expect(s.claim(id, 'k')).toEqual({ error: 'COMMITMENT_EXPIRED' });
  });
});
