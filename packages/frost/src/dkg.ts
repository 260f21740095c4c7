/**
 * Distributed key generation without a trusted dealer: the Pedersen DKG with proofs of knowledge of
 * the FROST paper (Komlo and Goldberg, Figure 1, "KeyGen"), with the semantics and package formats of
 * frost-rs `keys::dkg` (part1, part2, part3). No process ever holds the group secret.
 *
 * Each participant runs `part1` and broadcasts its round-1 package to all others; then `part2` with
 * the n − 1 round-1 packages received, and sends each other participant its own round-2 package;
 * then `part3` with both sets, which yields its key package and the public key package (identical at
 * every participant). Round 1 needs a real broadcast channel (every participant must see the same
 * package from each sender, or the key generation is insecure); round 2 a confidential and
 * authenticated one. Packages are keyed by the identifier of the sender as the channel authenticated
 * it. RFC 9591 leaves key generation to the application (its Appendix C describes a trusted dealer).
 * @module
 */
import { Point, mod } from './ciphersuite.js';
import {
  assertIdentifier,
  checkParticipants,
  computeProofOfKnowledge,
  Round1Package,
  Round1SecretPackage,
  ownRound1Package,
  Round2Package,
  Round2SecretPackage,
  type PackagesBySender,
} from './dkg-packages.js';
import { dealShares, receiveShares, type Dealt } from './dkg-rounds.js';
import { InconsistentKeyError } from './errors.js';
import { group } from './group.js';
import type { Identifier } from './identifier.js';
import { KeyPackage, PublicKeyPackage, validateThreshold } from './keys.js';
import { defaultRandom, randomNonZeroScalar, type RandomSource } from './random.js';
import { evaluateCommitment, isIdentity } from './vss.js';

export { Round1Package, Round1SecretPackage, Round2Package, Round2SecretPackage, type PackagesBySender, type Dealt };

/** Options of {@link part1} (and of `refreshDkgPart1`). */
export interface Part1Options {
  /**
   * Every participant of the run, this one included (max_signers distinct identifiers). When given, the
   * later parts name the participants whose packages are missing and refuse any other sender by name;
   * without it they can only count packages, as frost-rs does.
   */
  participants?: readonly Identifier[];
  /**
   * Randomness source (tests only). Drawn as frost-rs draws: 64 bytes per scalar (reduced modulo L),
   * first the constant term, then the other t − 1 coefficients, then the proof nonce.
   */
  rng?: RandomSource;
}

/** Output of {@link part1}. */
export interface Part1Output {
  /** Keep for {@link part2}; never send it. */
  secretPackage: Round1SecretPackage;
  /** Broadcast to every other participant. */
  package: Round1Package;
}

/** Output of {@link part3}. */
export interface Part3Output {
  keyPackage: KeyPackage;
  publicKeyPackage: PublicKeyPackage;
}

/**
 * part1: samples the secret polynomial f_i of degree t − 1, commits to its coefficients
 * (φ_ik = G·a_ik) and proves knowledge of a_i0 with a Schnorr proof bound to `identifier`
 * (challenge HDKG(identifier ‖ φ_i0 ‖ R)). KeyGen round 1, steps 1–4; frost-rs `dkg::part1`.
 * Throws InvalidParametersError unless 2 ≤ minSigners ≤ maxSigners ≤ 65535.
 */
export function part1(identifier: Identifier, maxSigners: number, minSigners: number, options: Part1Options = {}): Part1Output {
  assertIdentifier(identifier);
  validateThreshold(minSigners, maxSigners);
  const participants = checkParticipants(identifier, options.participants, maxSigners);
  const rng = options.rng ?? defaultRandom;
  const coefficients: bigint[] = [];
  for (let k = 0; k < minSigners; k++) coefficients.push(randomNonZeroScalar(rng));
  const commitment = coefficients.map((a) => group().baseMul(a));
  const proof = computeProofOfKnowledge(identifier, coefficients[0]!, commitment[0]!, rng);
  const secretPackage = new Round1SecretPackage({ kind: 'dkg', identifier, coefficients, commitment, minSigners, maxSigners, participants });
  coefficients.fill(0n);
  return { secretPackage, package: ownRound1Package(commitment, proof) };
}

/**
 * part2: checks every other participant's round-1 package (exactly one per other participant, t
 * commitments, a valid proof of knowledge) and computes the share f_i(ℓ) for each of them. KeyGen
 * round 1 step 5 and round 2 step 1; frost-rs `dkg::part2`. Uses up `secretPackage` on success.
 *
 * Throws (with `culprits` naming the senders at fault): DuplicatePackageError, UnexpectedPackageError
 * (unknown sender, or this participant itself), MissingPackageError, InvalidCommitmentError (wrong
 * length), InvalidProofOfKnowledgeError; SecretPackageReuseError on a second call.
 */
export function part2(secretPackage: Round1SecretPackage, round1Packages: PackagesBySender<Round1Package>): Dealt {
  return dealShares('dkg', secretPackage, round1Packages, 'dkg.part2');
}

/**
 * part3: checks each received share against its sender's commitment (G·f_ℓ(i) = Σ_k φ_ℓk·i^k), sums
 * them into the signing share s_i, and derives the group verifying key Σ_ℓ φ_ℓ0 and every
 * participant's verifying share from the summed commitments. KeyGen round 2 steps 2–4; frost-rs
 * `dkg::part3`. `round1Packages` must be those given to part 2.
 *
 * Throws (with `culprits`): PackageMismatchError (a round-1 package changed since part 2),
 * DuplicatePackageError, UnexpectedPackageError, MissingPackageError, InvalidSecretShareError.
 */
export function part3(
  secretPackage: Round2SecretPackage,
  round1Packages: PackagesBySender<Round1Package>,
  round2Packages: PackagesBySender<Round2Package>,
): Part3Output {
  const { signingShare, participants, groupCommitment } = receiveShares('dkg', secretPackage, round1Packages, round2Packages, 'dkg.part3');
  const verifyingKeyBytes = groupCommitment[0]!;
  // Only possible when the constant terms cancel, which the proofs of knowledge rule out.
  if (isIdentity(verifyingKeyBytes)) throw new InconsistentKeyError('the group verifying key is the identity');
  const verifyingShares = participants.map((identifier) => {
    const bytes = evaluateCommitment(groupCommitment, identifier.value);
    if (isIdentity(bytes)) throw new InconsistentKeyError(`the verifying share of ${identifier} is the identity`);
    return { identifier, verifyingShare: Point.fromBytes(bytes, false) };
  });
  const minSigners = secretPackage.minSigners;
  const verifyingKey = Point.fromBytes(verifyingKeyBytes, false);
  const own = verifyingShares.find((e) => e.identifier.equals(secretPackage.identifier))!;
  const keyPackage = new KeyPackage({
    identifier: secretPackage.identifier,
    signingShare: mod(signingShare),
    verifyingShare: own.verifyingShare,
    verifyingKey,
    minSigners,
  });
  return { keyPackage, publicKeyPackage: new PublicKeyPackage({ verifyingShares, verifyingKey, minSigners }) };
}
