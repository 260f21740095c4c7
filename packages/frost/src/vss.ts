/**
 * Feldman verifiable secret sharing over coefficient commitments φ_k = G·a_k: evaluating a commitment
 * vector at an identifier, checking a share against it, and summing the vectors of several dealers.
 * RFC 9591 Appendix C.2 (vss_verify, derive_group_info); frost-rs `evaluate_vss`, `sum_commitments`.
 * Works on element encodings already checked by DeserializeElement, like the signing hot path.
 * @module
 */
import { bytesEqual } from './bytes.js';
import { mod } from './ciphersuite.js';
import { IDENTITY, group } from './group.js';

/**
 * Σ_k φ_k·x^(k+offset) (+ Σ adds): the commitment to f(x) for f with coefficient commitments
 * `commitment`. `offset` 1 is for refresh commitments, whose constant term (the identity) is left out
 * of the vector. Returns the encoding of the result, which may be the identity.
 */
export function evaluateCommitment(commitment: readonly Uint8Array[], x: bigint, offset: 0 | 1 = 0, adds: readonly Uint8Array[] = []): Uint8Array {
  const points: Uint8Array[] = [];
  const powers: bigint[] = [];
  let power = offset === 0 ? 1n : mod(x);
  for (const phi of commitment) {
    // A summed commitment may be the identity (dealers can make coefficients cancel); it adds nothing,
    // and libsodium refuses it as a multiplicand.
    if (!isIdentity(phi)) {
      points.push(phi);
      powers.push(power);
    }
    power = mod(power * x);
  }
  return group().combine(adds, points, powers);
}

/** vss_verify: G·share == Σ_k φ_k·x^k (with the same `offset` convention as {@link evaluateCommitment}). */
export function shareMatchesCommitment(share: bigint, commitment: readonly Uint8Array[], x: bigint, offset: 0 | 1 = 0): boolean {
  const lhs = share === 0n ? IDENTITY : group().baseMul(share);
  return bytesEqual(lhs, evaluateCommitment(commitment, x, offset));
}

/** The coefficient-wise sum of commitment vectors of equal length (the commitment to Σ f_ℓ). */
export function sumCommitments(commitments: readonly (readonly Uint8Array[])[]): Uint8Array[] {
  const length = commitments[0]?.length ?? 0;
  return Array.from({ length }, (_, k) => group().combine(commitments.map((c) => c[k]!), [], []));
}

/** True when `bytes` encodes the identity element. */
export function isIdentity(bytes: Uint8Array): boolean {
  return bytesEqual(bytes, IDENTITY);
}
