/**
 * FROST(Ed25519, SHA-512) threshold signatures, RFC 9591. Pure: no configuration or environment
 * reads and no I/O beyond loading the group backends at import; an application picks a backend
 * from its own configuration with {@link setGroupBackend}.
 * @module
 */
export * from './errors.js';
export {
  CIPHERSUITE_ID,
  CONTEXT_STRING,
  ORDER,
  Point,
  deserializeElement,
  deserializeScalar,
  serializeElement,
  serializeScalar,
  type Element,
} from './ciphersuite.js';
export { toHex, fromHexStrict } from './bytes.js';
export { Identifier, MAX_NUMERIC_IDENTIFIER } from './identifier.js';
export {
  KeyPackage,
  PublicKeyPackage,
  trustedDealerKeygen,
  assertParticipantsInKeySet,
  inferMinSigners,
  validateThreshold,
  MIN_THRESHOLD,
  MAX_SIGNERS,
  type TrustedDealerOptions,
  type TrustedDealerOutput,
  type VerifyingShareEntry,
} from './keys.js';
export { defaultRandom, type RandomSource } from './random.js';
export * as round1 from './round1.js';
export { SigningCommitments, SigningNonces } from './round1.js';
export { group, setGroupBackend, availableBackends, type GroupBackend, type BackendName } from './group.js';
export * as round2 from './round2.js';
export { SignatureShare } from './round2.js';
export { SigningPackage, type CommitmentEntry } from './signing-package.js';
export {
  computeSigningContext,
  computeBindingFactors,
  computeOthersTerm,
  encodeGroupCommitmentList,
  type OwnNonces,
  type PreparedSigning,
  type SigningContext,
} from './signing-context.js';
export { aggregate, verifySignatureShare } from './aggregate.js';
export { Signature, verifyEd25519 } from './signature.js';
export * as dkg from './dkg.js';
export {
  Round1Package as DkgRound1Package,
  Round2Package as DkgRound2Package,
  Round1SecretPackage as DkgRound1SecretPackage,
  Round2SecretPackage as DkgRound2SecretPackage,
  type PackagesBySender,
} from './dkg-packages.js';
export type { Part1Options as DkgPart1Options, Part1Output as DkgPart1Output, Part3Output as DkgPart3Output } from './dkg.js';
export type { Dealt as DkgPart2Output } from './dkg-rounds.js';
export { refreshDkgPart1, refreshDkgPart2, refreshDkgShares } from './refresh.js';
export { RepairDelta, RepairSigma, repairSharePart1, repairSharePart2, repairSharePart3 } from './repair.js';
export * from './json.js';
