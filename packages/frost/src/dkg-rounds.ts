/**
 * The steps key generation and refresh share (frost-rs runs them twice, in `keys::dkg` and in
 * `keys::refresh`): dealing the round-2 shares once the round-1 packages are checked, and receiving
 * them (each checked against its sender's commitment) into a signing share and the group commitment.
 * The two protocols differ only in the commitment's constant term (absent, hence the identity, in a
 * refresh) and in the proof of knowledge, which a refresh does not check.
 * @module
 */
import { mod } from './ciphersuite.js';
import {
  assertUnused,
  checkSameRound1Packages,
  checkSenders,
  collectPackages,
  ownSecretShare,
  Round1Package,
  Round1SecretPackage,
  Round2Package,
  Round2SecretPackage,
  takeCoefficients,
  verifyProofOfKnowledge,
  type PackagesBySender,
  type SecretPackageKind,
} from './dkg-packages.js';
import {
  InvalidCommitmentError,
  InvalidParametersError,
  InvalidProofOfKnowledgeError,
  InvalidSecretShareError,
} from './errors.js';
import { Identifier } from './identifier.js';
import { polynomialEvaluate } from './polynomial.js';
import { shareMatchesCommitment, sumCommitments } from './vss.js';

const protocolName = (kind: SecretPackageKind): string => (kind === 'dkg' ? 'key generation' : 'refresh');

/** Commitment length a sender's round-1 package must have: t, or t − 1 in a refresh (no constant term). */
export function commitmentLength(kind: SecretPackageKind, minSigners: number): number {
  return kind === 'dkg' ? minSigners : minSigners - 1;
}

/** Output of a second part. */
export interface Dealt {
  /** Keep for the third part; never send it. */
  secretPackage: Round2SecretPackage;
  /** One package per other participant, keyed by its identifier hex, ascending: send each to its recipient only. */
  packages: Map<string, Round2Package>;
}

/**
 * Second part: checks the round-1 packages (senders, commitment lengths, proofs of knowledge in a
 * key generation), then evaluates this participant's polynomial at every other participant. Uses up
 * `secret` only once every check has passed, so a refused call can be repeated with corrected input.
 */
export function dealShares(kind: SecretPackageKind, secret: Round1SecretPackage, round1Packages: PackagesBySender<Round1Package>, step: string): Dealt {
  if (!(secret instanceof Round1SecretPackage)) throw new InvalidParametersError(`${step} expects the secret package of the first part`);
  if (secret.kind !== kind) throw new InvalidParametersError(`${step}: this secret package belongs to a ${protocolName(secret.kind)} run`);
  assertUnused(secret);
  const received = collectPackages(round1Packages, Round1Package, `${step}: round-1 packages`);
  const others = secret.participants?.filter((p) => !p.equals(secret.identifier)).map((p) => p.toHex());
  checkSenders(received, secret.identifier, others, secret.maxSigners - 1, `${step}: round-1 packages`);

  const length = commitmentLength(kind, secret.minSigners);
  const wrongLength = [...received.values()].filter((r) => r.pkg.commitment.length !== length).map((r) => r.identifier.toHex());
  if (wrongLength.length > 0) {
    throw new InvalidCommitmentError(
      `${step}: commitments must list ${length} coefficient commitments (min_signers ${secret.minSigners}); not so from ${wrongLength.join(', ')}`,
      { culprits: wrongLength },
    );
  }
  // A refresh's proof is computed over the zero constant term (frost-rs does so, and does not check it):
  // it proves nothing, and nothing depends on it, since every receiver supplies the constant term itself.
  if (kind === 'dkg') {
    const badProofs = [...received.values()]
      .filter((r) => !verifyProofOfKnowledge(r.identifier, r.pkg.verifyingKey, r.pkg.proofOfKnowledge))
      .map((r) => r.identifier.toHex());
    if (badProofs.length > 0) {
      throw new InvalidProofOfKnowledgeError(`${step}: invalid proof of knowledge from ${badProofs.join(', ')}`, { culprits: badProofs });
    }
  }

  const coefficients = takeCoefficients(secret);
  const packages = new Map<string, Round2Package>();
  for (const [hex, { identifier }] of received) packages.set(hex, new Round2Package(polynomialEvaluate(identifier.value, coefficients)));
  const ownShare = polynomialEvaluate(secret.identifier.value, coefficients);
  coefficients.fill(0n);
  const secretPackage = new Round2SecretPackage({
    kind,
    identifier: secret.identifier,
    commitment: secret.commitment,
    secretShare: ownShare,
    minSigners: secret.minSigners,
    maxSigners: secret.maxSigners,
    round1Packages: new Map([...received].map(([hex, r]) => [hex, r.pkg])),
  });
  return { secretPackage, packages };
}

/** What receiving the round-2 shares yields. */
export interface Received {
  /** Σ_ℓ f_ℓ(i), this participant's own share included (in a refresh: the change to add to the old share). */
  signingShare: bigint;
  /** Every participant of the run, ascending. */
  participants: Identifier[];
  /** Σ_ℓ φ_ℓ: the commitment to the summed polynomial (in a refresh, without its zero constant term). */
  groupCommitment: Uint8Array[];
}

/**
 * Third part, common half: checks that the round-1 packages are those the second part accepted and that
 * a round-2 package came from each of their senders and no one else, checks every received share
 * against its sender's commitment (naming every sender whose share fails), and sums the shares and the
 * commitments.
 */
export function receiveShares(
  kind: SecretPackageKind,
  secret: Round2SecretPackage,
  round1Packages: PackagesBySender<Round1Package>,
  round2Packages: PackagesBySender<Round2Package>,
  step: string,
): Received {
  if (!(secret instanceof Round2SecretPackage)) throw new InvalidParametersError(`${step} expects the secret package of the second part`);
  if (secret.kind !== kind) throw new InvalidParametersError(`${step}: this secret package belongs to a ${protocolName(secret.kind)} run`);
  const round1 = collectPackages(round1Packages, Round1Package, `${step}: round-1 packages`);
  checkSameRound1Packages(secret.round1Packages, round1, secret.identifier, `${step}: round-1 packages`);
  const round2 = collectPackages(round2Packages, Round2Package, `${step}: round-2 packages`);
  checkSenders(round2, secret.identifier, [...secret.round1Packages.keys()], secret.maxSigners - 1, `${step}: round-2 packages`);

  const offset = kind === 'dkg' ? 0 : 1;
  const x = secret.identifier.value;
  const badShares = [...round2.values()]
    .filter(({ identifier, pkg }) => !shareMatchesCommitment(pkg.signingShare, secret.round1Packages.get(identifier.toHex())!.commitment, x, offset))
    .map(({ identifier }) => identifier.toHex());
  if (badShares.length > 0) {
    throw new InvalidSecretShareError(`${step}: shares inconsistent with their sender's commitment from ${badShares.join(', ')}`, {
      culprits: badShares,
    });
  }

  let signingShare = ownSecretShare(secret);
  for (const { pkg } of round2.values()) signingShare = mod(signingShare + pkg.signingShare);
  const groupCommitment = sumCommitments([secret.commitment, ...[...secret.round1Packages.values()].map((p) => p.commitment)]);
  const participants = [secret.identifier, ...[...round2.values()].map((r) => r.identifier)].sort(Identifier.compare);
  return { signingShare, participants, groupCommitment };
}
