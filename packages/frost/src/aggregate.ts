/**
 * Coordinator side: signature-share verification and aggregation with cheater detection.
 * RFC 9591 §5.3 (aggregate) and §5.4 (verify_signature_share).
 * @module
 */
import { bytesEqual } from './bytes.js';
import { mod, type Element } from './ciphersuite.js';
import { IDENTITY, group } from './group.js';
import {
  IdentityCommitmentError,
  InvalidSignatureError,
  InvalidSignatureShareError,
  InvalidSigningPackageError,
  MissingSignatureShareError,
} from './errors.js';
import type { Identifier } from './identifier.js';
import { assertParticipantsInKeySet, type PublicKeyPackage } from './keys.js';
import type { SignatureShare } from './round2.js';
import { Signature, verifyEd25519 } from './signature.js';
import {
  bindingFactorOf,
  computeSigningContext,
  lagrangeCoefficient,
  type SigningContext,
} from './signing-context.js';
import type { SigningPackage } from './signing-package.js';

/**
 * verify_signature_share: G·z_i == D_i + ρ_i·E_i + (c·λ_i)·Y_i. RFC 9591 §5.4.
 * @returns true when the share is valid.
 */
export function verifySignatureShare(
  ctx: SigningContext,
  identifier: Identifier,
  verifyingShare: Element | Uint8Array,
  share: SignatureShare,
): boolean {
  const commitments = ctx.pkg.commitmentsOf(identifier);
  if (!commitments) throw new InvalidSigningPackageError(`identifier ${identifier} is not in the signing package`);
  const rho = bindingFactorOf(ctx, identifier);
  const lambda = lagrangeCoefficient(ctx, identifier);
  const yBytes = verifyingShare instanceof Uint8Array ? verifyingShare : verifyingShare.toBytes();
  const g = group();
  const lhs = share.share === 0n ? IDENTITY : g.baseMul(share.share);
  const rhs = g.combine([commitments.hidingBytes], [commitments.bindingBytes, yBytes], [rho, mod(ctx.challenge * lambda)]);
  return bytesEqual(lhs, rhs);
}

/** The identifiers (hex) of every share that is missing or fails {@link verifySignatureShare}, ascending. */
function findCulprits(ctx: SigningContext, shares: ReadonlyMap<string, SignatureShare>, pkp: PublicKeyPackage): string[] {
  const culprits: string[] = [];
  for (const { identifier } of ctx.pkg.signingCommitments.values()) {
    const share = shares.get(identifier.toHex());
    if (!share || !verifySignatureShare(ctx, identifier, pkp.verifyingShareBytesOf(identifier), share)) {
      culprits.push(identifier.toHex());
    }
  }
  return culprits;
}

/**
 * aggregate: z = Σ z_i, signature (R, z). RFC 9591 §5.3. Refuses a group commitment R equal to the
 * identity (IdentityCommitmentError). Verifies the result once with node:crypto;
 * only when that fails are the shares checked one by one, and every failing participant is named in
 * the thrown InvalidSignatureShareError's `culprits` (the strategy of frost-rs).
 *
 * @param shares - signature shares keyed by identifier hex; exactly one per package participant
 * @param ctx - optional precomputed context for `pkg` under `pkp.verifyingKey`
 */
export function aggregate(
  pkg: SigningPackage,
  shares: ReadonlyMap<string, SignatureShare>,
  pkp: PublicKeyPackage,
  ctx?: SigningContext,
): Signature {
  if (pkg.signingCommitments.size < pkp.minSigners) {
    throw new InvalidSigningPackageError(
      `signing package has ${pkg.signingCommitments.size} commitments; at least ${pkp.minSigners} are required`,
    );
  }
  for (const key of shares.keys()) {
    if (!pkg.signingCommitments.has(key)) {
      throw new InvalidSigningPackageError(`signature share from ${key}, which is not in the signing package`);
    }
  }
  const missing = [...pkg.signingCommitments.keys()].filter((k) => !shares.has(k));
  if (missing.length > 0) {
    throw new MissingSignatureShareError(`missing signature shares from ${missing.join(', ')}`, { culprits: missing });
  }
  assertParticipantsInKeySet(pkg, pkp);
  let z = 0n;
  for (const s of shares.values()) z += s.share;
  // Fast path: all signers reported the same R. (R, Σz) is returned only if it verifies.
  const all = [...shares.values()];
  const hint = all[0]?.groupCommitment;
  if (hint && !bytesEqual(hint, IDENTITY) && all.every((s) => s.groupCommitment && bytesEqual(s.groupCommitment, hint))) {
    const fast = new Signature(hint, mod(z));
    if (verifyEd25519(pkp.verifyingKeyBytes, pkg.message, fast.toBytes())) return fast;
  }
  const context = ctx ?? computeSigningContext(pkg, pkp.verifyingKeyBytes);
  // With R the identity, z = c·s would verify and give the group secret away (frost-rs refuses it too).
  if (bytesEqual(context.groupCommitmentBytes, IDENTITY)) throw new IdentityCommitmentError('the group commitment is the identity element');
  const signature = new Signature(context.groupCommitmentBytes, mod(z));
  if (verifyEd25519(pkp.verifyingKeyBytes, pkg.message, signature.toBytes())) return signature;
  const culprits = findCulprits(context, shares, pkp);
  if (culprits.length > 0) {
    throw new InvalidSignatureShareError(`invalid signature shares from ${culprits.join(', ')}`, { culprits });
  }
  throw new InvalidSignatureError('aggregate signature does not verify although every share does');
}
