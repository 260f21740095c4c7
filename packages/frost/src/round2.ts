/**
 * Round two: signature shares. RFC 9591 §5.2 (sign); frost-rs `round2::sign`.
 * @module
 */
import { deserializeScalar, mod, serializeElement, serializeScalar } from './ciphersuite.js';
import { IncorrectCommitmentError, InvalidSigningPackageError } from './errors.js';
import type { KeyPackage } from './keys.js';
import type { SigningNonces } from './round1.js';
import {
  bindingFactorOf,
  computeSigningContext,
  lagrangeCoefficient,
  type SigningContext,
} from './signing-context.js';
import type { SigningPackage } from './signing-package.js';

/** A participant's signature share z_i. */
export class SignatureShare {
  readonly share: bigint;

  constructor(share: bigint) {
    this.share = share;
    Object.freeze(this);
  }

  /** Decodes a canonical 32-byte scalar. */
  static fromBytes(bytes: Uint8Array): SignatureShare {
    return new SignatureShare(deserializeScalar(bytes));
  }

  toBytes(): Uint8Array {
    return serializeScalar(this.share);
  }
}

/**
 * Checks that `pkg` is one this participant may sign: it has at least min_signers commitments and lists
 * exactly the commitments of `nonces` for this participant. Throws InvalidSigningPackageError /
 * IncorrectCommitmentError.
 */
export function checkSigningPackage(pkg: SigningPackage, nonces: SigningNonces, keyPackage: KeyPackage): void {
  if (pkg.signingCommitments.size < keyPackage.minSigners) {
    throw new InvalidSigningPackageError(
      `signing package has ${pkg.signingCommitments.size} commitments; at least ${keyPackage.minSigners} are required`,
    );
  }
  const mine = pkg.commitmentsOf(keyPackage.identifier);
  if (!mine) throw new InvalidSigningPackageError('signing package does not include this participant');
  if (!mine.equals(nonces.commitments)) {
    throw new IncorrectCommitmentError('signing package lists a commitment for this participant that these nonces did not produce');
  }
}

/**
 * sign: z_i = d_i + e_i·ρ_i + λ_i·s_i·c. RFC 9591 §5.2. Consumes `nonces` (a second call with the same
 * object throws NonceReuseError) before any share arithmetic.
 * @param ctx - optional precomputed context for `pkg` (must have been computed for this group key)
 */
export function sign(pkg: SigningPackage, nonces: SigningNonces, keyPackage: KeyPackage, ctx?: SigningContext): SignatureShare {
  checkSigningPackage(pkg, nonces, keyPackage);
  const context = ctx ?? computeSigningContext(pkg, serializeElement(keyPackage.verifyingKey));
  const rho = bindingFactorOf(context, keyPackage.identifier);
  const lambda = lagrangeCoefficient(context, keyPackage.identifier);
  const { hiding, binding } = nonces.take();
  return new SignatureShare(mod(hiding + binding * rho + lambda * keyPackage.signingShare * context.challenge));
}
