/**
 * Share refresh with a DKG (frost-rs `keys::refresh`: refresh_dkg_part1, refresh_dkg_part2,
 * refresh_dkg_shares): the participants jointly deal a random polynomial with constant term zero and
 * add their shares of it to their old ones. The group key stays the same; every share and verifying
 * share changes, so old shares (and anything learned about them) no longer combine with new ones.
 * Participants left out of the refresh are removed from the key set; at least min_signers must take
 * part, and the threshold cannot change.
 *
 * The flow and the channel requirements are those of key generation (dkg.ts): broadcast the round-1
 * package, send each round-2 package confidentially and authenticated to its recipient. A refresh
 * round-1 package lists t − 1 commitments (the constant one, the identity, is implied).
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
  type PackagesBySender,
  type Round2Package,
  Round2SecretPackage,
} from './dkg-packages.js';
import { dealShares, receiveShares, type Dealt } from './dkg-rounds.js';
import type { Part1Options, Part1Output, Part3Output } from './dkg.js';
import { InconsistentKeyError, InvalidParametersError, UnknownIdentifierError } from './errors.js';
import { group } from './group.js';
import type { Identifier } from './identifier.js';
import { KeyPackage, PublicKeyPackage, validateThreshold } from './keys.js';
import { defaultRandom, randomNonZeroScalar } from './random.js';
import { evaluateCommitment, isIdentity } from './vss.js';

/**
 * refresh_dkg_part1: samples a polynomial with constant term 0 and t − 1 random coefficients and
 * commits to the non-constant ones. `maxSigners` is the number of participants taking part in the
 * refresh (at least `minSigners`, which must be the key's threshold). The package's proof of
 * knowledge is formed as frost-rs forms it (over the zero constant term: a nonce commitment and the
 * nonce); receivers do not check it. Randomness is drawn as frost-rs draws it: the t − 1
 * coefficients, then the nonce.
 */
export function refreshDkgPart1(identifier: Identifier, maxSigners: number, minSigners: number, options: Part1Options = {}): Part1Output {
  assertIdentifier(identifier);
  validateThreshold(minSigners, maxSigners);
  const participants = checkParticipants(identifier, options.participants, maxSigners);
  const rng = options.rng ?? defaultRandom;
  const coefficients: bigint[] = [0n];
  for (let k = 1; k < minSigners; k++) coefficients.push(randomNonZeroScalar(rng));
  const commitment = coefficients.slice(1).map((a) => group().baseMul(a));
  const proof = computeProofOfKnowledge(identifier, 0n, commitment[0]!, rng);
  const secretPackage = new Round1SecretPackage({ kind: 'refresh', identifier, coefficients, commitment, minSigners, maxSigners, participants });
  coefficients.fill(0n);
  return { secretPackage, package: ownRound1Package(commitment, proof) };
}

/**
 * refresh_dkg_part2: checks the other participants' round-1 packages (one per participant, t − 1
 * commitments each) and computes their shares of this participant's zero polynomial. Uses up
 * `secretPackage` on success. Throws as `dkg.part2` does, except that proofs of knowledge are not checked.
 */
export function refreshDkgPart2(secretPackage: Round1SecretPackage, round1Packages: PackagesBySender<Round1Package>): Dealt {
  return dealShares('refresh', secretPackage, round1Packages, 'refreshDkgPart2');
}

/**
 * refresh_dkg_shares: checks the received shares against their senders' commitments, adds their sum
 * to the old signing share, and builds the refreshed key package and public key package (same group
 * verifying key and threshold; verifying shares of the refresh participants only, each the old one plus
 * the commitment to its change). `oldKeyPackage` and `oldPublicKeyPackage` are this participant's
 * current key material.
 *
 * Throws, besides what `dkg.part3` throws: InvalidParametersError when the run's threshold or
 * identifier differs from the old key package's, InconsistentKeyError when the old key package does
 * not belong to the old public key package, UnknownIdentifierError naming refresh participants that
 * are not in the old key set.
 */
export function refreshDkgShares(
  secretPackage: Round2SecretPackage,
  round1Packages: PackagesBySender<Round1Package>,
  round2Packages: PackagesBySender<Round2Package>,
  oldPublicKeyPackage: PublicKeyPackage,
  oldKeyPackage: KeyPackage,
): Part3Output {
  if (!(secretPackage instanceof Round2SecretPackage)) throw new InvalidParametersError('refreshDkgShares expects the Round2SecretPackage of refreshDkgPart2');
  if (!(oldKeyPackage instanceof KeyPackage)) throw new InvalidParametersError('refreshDkgShares expects the old KeyPackage');
  if (!(oldPublicKeyPackage instanceof PublicKeyPackage)) throw new InvalidParametersError('refreshDkgShares expects the old PublicKeyPackage');
  const minSigners = secretPackage.minSigners;
  if (minSigners !== oldKeyPackage.minSigners) {
    throw new InvalidParametersError(`the refresh ran with min_signers ${minSigners}; the key's threshold is ${oldKeyPackage.minSigners}`);
  }
  if (!secretPackage.identifier.equals(oldKeyPackage.identifier)) {
    throw new InvalidParametersError(`the refresh ran as ${secretPackage.identifier}; the old key package is ${oldKeyPackage.identifier}'s`);
  }
  oldKeyPackage.assertMatches(oldPublicKeyPackage);
  const { signingShare, participants, groupCommitment } = receiveShares('refresh', secretPackage, round1Packages, round2Packages, 'refreshDkgShares');
  const unknown = participants.filter((p) => !oldPublicKeyPackage.verifyingShares.has(p.toHex())).map((p) => p.toHex());
  if (unknown.length > 0) {
    throw new UnknownIdentifierError(`refresh participants not in the key set: ${unknown.join(', ')}`, { culprits: unknown });
  }
  const verifyingShares = participants.map((identifier) => {
    const bytes = evaluateCommitment(groupCommitment, identifier.value, 1, [oldPublicKeyPackage.verifyingShareBytesOf(identifier)]);
    if (isIdentity(bytes)) throw new InconsistentKeyError(`the refreshed verifying share of ${identifier} is the identity`);
    return { identifier, verifyingShare: Point.fromBytes(bytes, false) };
  });
  const own = verifyingShares.find((e) => e.identifier.equals(secretPackage.identifier))!;
  const verifyingKey = oldPublicKeyPackage.verifyingKey;
  const keyPackage = new KeyPackage({
    identifier: secretPackage.identifier,
    signingShare: mod(signingShare + oldKeyPackage.signingShare),
    verifyingShare: own.verifyingShare,
    verifyingKey,
    minSigners,
  });
  return { keyPackage, publicKeyPackage: new PublicKeyPackage({ verifyingShares, verifyingKey, minSigners }) };
}
