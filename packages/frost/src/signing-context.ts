/**
 * Per-package values shared by signers and the coordinator: binding factors, group commitment,
 * challenge and Lagrange coefficients. RFC 9591 §4.3–§4.6. Computed once per signing package.
 * @module
 */
import { concatBytes } from './bytes.js';
import { H1, H2, H4, H5, mod } from './ciphersuite.js';
import { group } from './group.js';
import { InvalidSigningPackageError } from './errors.js';
import type { Identifier } from './identifier.js';
import { deriveInterpolatingValue } from './polynomial.js';
import type { SigningPackage } from './signing-package.js';

/** Everything derived from (signing package, group key) that shares and verification need. */
export interface SigningContext {
  readonly pkg: SigningPackage;
  /** ρ_i keyed by identifier hex. RFC 9591 §4.4. */
  readonly bindingFactors: ReadonlyMap<string, bigint>;
  /** Encoding of R = Σ D_i + ρ_i·E_i. RFC 9591 §4.5. */
  readonly groupCommitmentBytes: Uint8Array;
  /** c = H2(R ‖ Y ‖ msg). RFC 9591 §4.6. */
  readonly challenge: bigint;
  /** Participant identifiers (scalars) of the package, ascending. */
  readonly participants: readonly bigint[];
}

/** encode_group_commitment_list. RFC 9591 §4.3. */
export function encodeGroupCommitmentList(pkg: SigningPackage): Uint8Array {
  const out = new Uint8Array(pkg.signingCommitments.size * 96);
  let off = 0;
  for (const { identifier, commitments } of pkg.signingCommitments.values()) {
    out.set(identifier.toBytes(), off);
    out.set(commitments.hidingBytes, off + 32);
    out.set(commitments.bindingBytes, off + 64);
    off += 96;
  }
  return out;
}

/** compute_binding_factors. RFC 9591 §4.4. */
export function computeBindingFactors(pkg: SigningPackage, verifyingKeyBytes: Uint8Array): Map<string, bigint> {
  const prefix = concatBytes(verifyingKeyBytes, H4(pkg.message), H5(encodeGroupCommitmentList(pkg)));
  const out = new Map<string, bigint>();
  for (const { identifier } of pkg.signingCommitments.values()) {
    out.set(identifier.toHex(), H1(concatBytes(prefix, identifier.toBytes())));
  }
  return out;
}

/** A signer's own nonces, which let it compute its own term of R with a fixed-base multiplication. */
export interface OwnNonces {
  identifier: Identifier;
  hiding: bigint;
  binding: bigint;
}

/**
 * compute_group_commitment, on encodings through the active group backend. RFC 9591 §4.5.
 * With `own`, the signer's term D_i + ρ_i·E_i is computed as [d_i + ρ_i·e_i]B: the same point, by a
 * constant-time fixed-base multiplication, markedly cheaper than a variable-base one in every
 * backend (figures: bench/RESULTS.md).
 */
function computeGroupCommitment(pkg: SigningPackage, bindingFactors: ReadonlyMap<string, bigint>, own?: OwnNonces, othersTerm?: Uint8Array): Uint8Array {
  const others = othersTerm ?? computeOthersTerm(pkg, bindingFactors, own?.identifier);
  if (!own) return others;
  const k = mod(own.hiding + bindingFactors.get(own.identifier.toHex())! * own.binding);
  return k === 0n ? others : group().combine([others, group().baseMul(k)], [], []);
}

/**
 * Σ D_j + ρ_j·E_j over the participants other than `exclude` (all of them when omitted): the public,
 * variable-base part of the group commitment, which a signer may compute off its event loop.
 */
export function computeOthersTerm(pkg: SigningPackage, bindingFactors: ReadonlyMap<string, bigint>, exclude?: Identifier): Uint8Array {
  const hidings: Uint8Array[] = [];
  const bindings: Uint8Array[] = [];
  const rhos: bigint[] = [];
  for (const { identifier, commitments } of pkg.signingCommitments.values()) {
    if (exclude && identifier.equals(exclude)) continue;
    hidings.push(commitments.hidingBytes);
    bindings.push(commitments.bindingBytes);
    rhos.push(bindingFactors.get(identifier.toHex())!);
  }
  return group().combine(hidings, bindings, rhos);
}

/** The public part of a signer's round-2 work, computed ahead (e.g. in a worker thread). */
export interface PreparedSigning {
  bindingFactors: ReadonlyMap<string, bigint>;
  /** {@link computeOthersTerm} excluding the signer itself. */
  othersTerm: Uint8Array;
}

/** compute_challenge. RFC 9591 §4.6. */
export function computeChallenge(groupCommitmentBytes: Uint8Array, verifyingKeyBytes: Uint8Array, message: Uint8Array): bigint {
  return H2(concatBytes(groupCommitmentBytes, verifyingKeyBytes, message));
}

/** Binding factors, group commitment and challenge for one package under one group key. */
export function computeSigningContext(pkg: SigningPackage, verifyingKeyBytes: Uint8Array, own?: OwnNonces, prepared?: PreparedSigning): SigningContext {
  const bindingFactors = prepared?.bindingFactors ?? computeBindingFactors(pkg, verifyingKeyBytes);
  const groupCommitmentBytes = computeGroupCommitment(pkg, bindingFactors, own, prepared?.othersTerm);
  const challenge = computeChallenge(groupCommitmentBytes, verifyingKeyBytes, pkg.message);
  const participants = pkg.identifiers.map((i) => i.value);
  return { pkg, bindingFactors, groupCommitmentBytes, challenge, participants };
}

/** λ_i for `identifier` over the package's participants. RFC 9591 §4.2. */
export function lagrangeCoefficient(ctx: SigningContext, identifier: Identifier): bigint {
  return deriveInterpolatingValue(ctx.participants, identifier.value);
}

/** ρ_i of `identifier`, or an InvalidSigningPackageError when it is not a participant. */
export function bindingFactorOf(ctx: SigningContext, identifier: Identifier): bigint {
  const rho = ctx.bindingFactors.get(identifier.toHex());
  if (rho === undefined) throw new InvalidSigningPackageError(`identifier ${identifier} is not in the signing package`);
  return rho;
}
