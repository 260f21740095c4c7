/**
 * Randomness source. Defaults to the platform CSPRNG; tests inject deterministic bytes.
 * @module
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { bytesToNumberLE } from './bytes.js';
import { mod } from './ciphersuite.js';

/** Returns `n` uniformly random bytes. */
export type RandomSource = (n: number) => Uint8Array;

export const defaultRandom: RandomSource = (n) => new Uint8Array(nodeRandomBytes(n));

/** Uniform non-zero scalar: 64 random bytes reduced mod L (bias < 2^-250), retried on zero. */
export function randomNonZeroScalar(rng: RandomSource = defaultRandom): bigint {
  for (;;) {
    const s = mod(bytesToNumberLE(rng(64)));
    if (s !== 0n) return s;
  }
}
