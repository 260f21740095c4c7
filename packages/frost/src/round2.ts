/**
 * Round two: signature shares. RFC 9591 §5.2 (sign); frost-rs `round2::sign`.
 * @module
 */
import { bytesEqual } from './bytes.js';
import { deserializeScalar, mod, serializeElement, serializeScalar } from './ciphersuite.js';
import { IdentityCommitmentError, IncorrectCommitmentError, InvalidSigningPackageError } from './errors.js';
import { IDENTITY } from './group.js';
import type { KeyPackage } from './keys.js';
import type { SigningNonces } from './round1.js';
import {
  bindingFactorOf,
  computeSigningContext,
  lagrangeCoefficient,
  type PreparedSigning,
  type SigningContext,
} from './signing-context.js';
import type { SigningPackage } from './signing-package.js';

/** A participant's signature share z_i. */
export class SignatureShare {
  readonly share: bigint;
  /**
   * The group commitment R the signer computed, when known: a hint that lets {@link aggregate} skip
   * recomputing R. Never trusted: the aggregate is verified, and a wrong hint only loses the shortcut.
   * Not part of the frost-rs encoding.
   */
  readonly groupCommitment: Uint8Array | undefined;

  constructor(share: bigint, groupCommitment?: Uint8Array) {
    this.share = share;
    this.groupCommitment = groupCommitment;
    Object.freeze(this);
  }

  /** Decodes a canonical 32-byte scalar (plus an optional R hint that travelled with it). */
  static fromBytes(bytes: Uint8Array, groupCommitment?: Uint8Array): SignatureShare {
    return new SignatureShare(deserializeScalar(bytes), groupCommitment);
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
function checkSigningPackage(pkg: SigningPackage, nonces: SigningNonces, keyPackage: KeyPackage): void {
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
 * sign: z_i = d_i + e_i·ρ_i + λ_i·s_i·c. RFC 9591 §5.2. Claims `nonces` (a second call with the same
 * object throws NonceReuseError) right after the package checks, before any share arithmetic. A group
 * commitment equal to the identity is refused (IdentityCommitmentError) before the share is computed,
 * as frost-rs does; the nonces stay claimed. The returned share carries the group commitment as a hint
 * for the aggregator.
 * @param ctx - optional precomputed context for `pkg` (must have been computed for this group key)
 * @param prepared - optional public part computed ahead (e.g. in a worker thread)
 */
export function sign(pkg: SigningPackage, nonces: SigningNonces, keyPackage: KeyPackage, ctx?: SigningContext, prepared?: PreparedSigning): SignatureShare {
  checkSigningPackage(pkg, nonces, keyPackage);
  const { hiding, binding } = nonces.take();
  const context = ctx ?? computeSigningContext(pkg, serializeElement(keyPackage.verifyingKey), { identifier: keyPackage.identifier, hiding, binding }, prepared);
  // Each commitment was checked not to be the identity (DeserializeElement); their weighted sum cannot
  // be steered to it either (the binding factors hash every commitment), so only a wrong context or
  // prepared part gets here. With R the identity, the aggregate z is c·s: the group secret in clear.
  if (bytesEqual(context.groupCommitmentBytes, IDENTITY)) throw new IdentityCommitmentError('the group commitment is the identity element');
  const rho = bindingFactorOf(context, keyPackage.identifier);
  const lambda = lagrangeCoefficient(context, keyPackage.identifier);
  return new SignatureShare(mod(hiding + binding * rho + lambda * keyPackage.signingShare * context.challenge), context.groupCommitmentBytes);
}
