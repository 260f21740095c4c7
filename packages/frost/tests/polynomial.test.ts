import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ORDER, mod } from '../src/ciphersuite.js';
import { deriveInterpolatingValue, lagrangeAt, polynomialEvaluate } from '../src/polynomial.js';

const scalar = fc.bigInt({ min: 0n, max: ORDER - 1n });
/** t distinct non-zero x coordinates and a polynomial of degree t − 1. */
const sharing = fc.integer({ min: 1, max: 6 }).chain((t) =>
  fc.tuple(
    fc.uniqueArray(fc.bigInt({ min: 1n, max: ORDER - 1n }), { minLength: t, maxLength: t }),
    fc.array(scalar, { minLength: t, maxLength: t }),
  ),
);

describe('polynomialEvaluate (RFC 9591 Appendix C.1)', () => {
  it('is Σ a_k·x^k mod L', () => {
    expect(polynomialEvaluate(2n, [5n, 3n, 1n])).toBe(5n + 3n * 2n + 4n);
    expect(polynomialEvaluate(0n, [7n, 3n])).toBe(7n);
    expect(polynomialEvaluate(ORDER - 1n, [0n, 0n, 1n])).toBe(1n); // (−1)² reduced mod L
    expect(polynomialEvaluate(5n, [])).toBe(0n);
  });
});

describe('deriveInterpolatingValue (RFC 9591 §4.2)', () => {
  it('recovers f(0) from any t points of a degree t − 1 polynomial', () => {
    fc.assert(
      fc.property(sharing, ([xs, coefficients]) => {
        let secret = 0n;
        for (const xi of xs) secret = mod(secret + deriveInterpolatingValue(xs, xi) * polynomialEvaluate(xi, coefficients));
        expect(secret).toBe(coefficients[0]);
      }),
    );
  });

  it('matches the closed form for {1, 2, 3}: λ = 3, −3, 1', () => {
    expect(deriveInterpolatingValue([1n, 2n, 3n], 1n)).toBe(3n);
    expect(deriveInterpolatingValue([1n, 2n, 3n], 2n)).toBe(ORDER - 3n);
    expect(deriveInterpolatingValue([1n, 2n, 3n], 3n)).toBe(1n);
  });

  it('refuses a list with duplicates or without x_i', () => {
    expect(() => deriveInterpolatingValue([1n, 2n, 2n], 1n)).toThrow(expect.objectContaining({ code: 'INVALID_SIGNING_PACKAGE' }));
    expect(() => deriveInterpolatingValue([1n, 2n], 3n)).toThrow(expect.objectContaining({ code: 'INVALID_SIGNING_PACKAGE' }));
  });
});

describe('lagrangeAt', () => {
  it('interpolates f at any x from t points', () => {
    fc.assert(
      fc.property(sharing, scalar, ([xs, coefficients], x) => {
        let value = 0n;
        for (const xi of xs) value = mod(value + lagrangeAt(xs, xi, x) * polynomialEvaluate(xi, coefficients));
        expect(value).toBe(polynomialEvaluate(x, coefficients));
      }),
    );
  });

  it('at 0 agrees with deriveInterpolatingValue, and at x_j is 1 for j = i and 0 otherwise', () => {
    const xs = [2n, 5n, 9n];
    for (const xi of xs) {
      expect(lagrangeAt(xs, xi, 0n)).toBe(deriveInterpolatingValue(xs, xi));
      for (const xj of xs) expect(lagrangeAt(xs, xi, xj)).toBe(xi === xj ? 1n : 0n);
    }
  });
});
