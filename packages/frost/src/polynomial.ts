/**
 * Polynomial helpers for Shamir sharing and Lagrange interpolation. RFC 9591 §4.2, Appendix C.
 * @module
 */
import { invert, mod } from './ciphersuite.js';
import { InvalidSigningPackageError } from './errors.js';

/** Evaluates Σ coefficients[k]·x^k mod L (Horner). RFC 9591 Appendix C.1 polynomial_evaluate. */
export function polynomialEvaluate(x: bigint, coefficients: readonly bigint[]): bigint {
  let value = 0n;
  for (let k = coefficients.length - 1; k >= 0; k--) value = mod(value * x + coefficients[k]!);
  return value;
}

/**
 * Lagrange coefficient λ_i for x_i over the set `xs` evaluated at 0. RFC 9591 §4.2
 * derive_interpolating_value. `xs` must contain `xi` exactly once and no duplicates.
 */
export function deriveInterpolatingValue(xs: readonly bigint[], xi: bigint): bigint {
  let found = false;
  let numerator = 1n;
  let denominator = 1n;
  const seen = new Set<bigint>();
  for (const xj of xs) {
    if (seen.has(xj)) throw new InvalidSigningPackageError('duplicate identifier in participant list');
    seen.add(xj);
    if (xj === xi) {
      found = true;
      continue;
    }
    numerator = mod(numerator * xj);
    denominator = mod(denominator * (xj - xi));
  }
  if (!found) throw new InvalidSigningPackageError('identifier is not in the participant list');
  return mod(numerator * invert(denominator));
}

/**
 * Lagrange coefficient for x_i over `xs`, evaluated at an arbitrary point x (used to check that
 * verifying shares lie on one polynomial).
 */
export function lagrangeAt(xs: readonly bigint[], xi: bigint, x: bigint): bigint {
  let numerator = 1n;
  let denominator = 1n;
  for (const xj of xs) {
    if (xj === xi) continue;
    numerator = mod(numerator * (x - xj));
    denominator = mod(denominator * (xi - xj));
  }
  return mod(numerator * invert(denominator));
}
