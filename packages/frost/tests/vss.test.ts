// Feldman VSS helpers, checked against plain point arithmetic on every group backend, including the
// identity entries a summed commitment can contain.
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { toHex } from '../src/index.js';
import { ORDER, Point, mod } from '../src/ciphersuite.js';
import { availableBackends, group, setGroupBackend } from '../src/group.js';
import { polynomialEvaluate } from '../src/polynomial.js';
import { evaluateCommitment, isIdentity, shareMatchesCommitment, sumCommitments } from '../src/vss.js';

const initial = group().name;
afterAll(() => setGroupBackend(initial));
const commit = (coefficients: bigint[]): Uint8Array[] => coefficients.map((a) => Point.BASE.multiply(a).toBytes());
const scalar = fc.bigInt({ min: 1n, max: ORDER - 1n });

describe.each(availableBackends())('vss on the %s backend', (backend) => {
  it('a share matches the commitment of its polynomial, and only at its own point', () => {
    setGroupBackend(backend);
    fc.assert(
      fc.property(fc.array(scalar, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 1000 }), (coefficients, x) => {
        const share = polynomialEvaluate(BigInt(x), coefficients);
        expect(shareMatchesCommitment(share, commit(coefficients), BigInt(x))).toBe(true);
        expect(shareMatchesCommitment(mod(share + 1n), commit(coefficients), BigInt(x))).toBe(false);
        expect(shareMatchesCommitment(share, commit(coefficients), BigInt(x + 1))).toBe(coefficients.length === 1);
      }),
      { numRuns: 15 },
    );
  });

  it('offset 1 evaluates a refresh commitment (no constant term) of a polynomial with f(0) = 0', () => {
    setGroupBackend(backend);
    const coefficients = [0n, 11n, 22n];
    const share = polynomialEvaluate(5n, coefficients);
    expect(shareMatchesCommitment(share, commit(coefficients.slice(1)), 5n, 1)).toBe(true);
    expect(shareMatchesCommitment(share, commit(coefficients.slice(1)), 5n, 0)).toBe(false);
  });

  it('sums commitments coefficient-wise; identity entries (cancelling dealers) are skipped, not refused', () => {
    setGroupBackend(backend);
    const a = commit([3n, 5n]);
    const b = [Point.BASE.multiply(4n).toBytes(), Point.BASE.multiply(ORDER - 5n).toBytes()];
    const sum = sumCommitments([a, b]);
    expect(toHex(sum[0]!)).toBe(toHex(Point.BASE.multiply(7n).toBytes()));
    expect(isIdentity(sum[1]!)).toBe(true);
    expect(toHex(evaluateCommitment(sum, 9n))).toBe(toHex(Point.BASE.multiply(7n).toBytes()));
    expect(toHex(evaluateCommitment(sum, 9n, 0, [Point.BASE.toBytes()]))).toBe(toHex(Point.BASE.multiply(8n).toBytes()));
    expect(shareMatchesCommitment(0n, [sum[1]!], 3n, 1)).toBe(true);
  });
});
