import { describe, expect, it } from '@jest/globals';
import { numberToBytesLE, toHex } from '../src/bytes.js';
import { ORDER } from '../src/ciphersuite.js';
import { defaultRandom, randomNonZeroScalar } from '../src/random.js';

describe('defaultRandom', () => {
  it('returns the requested number of bytes, different on every call', () => {
    expect(defaultRandom(0)).toHaveLength(0);
    const a = defaultRandom(32);
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a).toHaveLength(32);
    expect(toHex(defaultRandom(32))).not.toBe(toHex(a));
  });
});

describe('randomNonZeroScalar', () => {
  it('reduces 64 random bytes mod L (wide reduction keeps the bias negligible)', () => {
    const requests: number[] = [];
    const s = randomNonZeroScalar((n) => {
      requests.push(n);
      return numberToBytesLE(ORDER + 5n, 64);
    });
    expect(requests).toEqual([64]);
    expect(s).toBe(5n);
  });

  it('draws again when the result would be zero', () => {
    const queue = [numberToBytesLE(0n, 64), numberToBytesLE(2n * ORDER, 64), numberToBytesLE(7n, 64)];
    expect(randomNonZeroScalar(() => queue.shift()!)).toBe(7n);
    expect(queue).toHaveLength(0);
  });

  it('with the platform source, lands in [1, L)', () => {
    for (let i = 0; i < 20; i++) {
      const s = randomNonZeroScalar();
      expect(s > 0n && s < ORDER).toBe(true);
    }
  });
});
