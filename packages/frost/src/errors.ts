/**
 * Errors raised by the FROST library. Every class has a stable `code` string that callers
 * (and the services' HTTP error tables) may switch on; messages are for humans and may change.
 * @module
 */

/** Base class: every error thrown by this package is a `FrostError`. */
export class FrostError extends Error {
  /** Stable machine-readable code. */
  readonly code: string = 'FROST_ERROR';
  /**
   * Identifiers (lowercase hex, frost-rs form) of participants shown to have misbehaved, when known.
   * Empty for errors that do not blame anybody.
   */
  readonly culprits: readonly string[];

  constructor(message: string, options?: { culprits?: readonly string[]; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FrostError';
    this.culprits = Object.freeze([...(options?.culprits ?? [])]);
  }
}

/** Input is not well-formed (bad JSON, wrong type, bad hex, wrong length). */
export class MalformedInputError extends FrostError {
  override readonly code: string = 'MALFORMED_INPUT';
  override name = 'MalformedInputError';
}

/** A JSON object carries a field the format does not define. */
export class UnknownFieldError extends MalformedInputError {
  override readonly code = 'UNKNOWN_FIELD';
  override name = 'UnknownFieldError';
}

/** A JSON object lacks a required field. */
export class MissingFieldError extends MalformedInputError {
  override readonly code = 'MISSING_FIELD';
  override name = 'MissingFieldError';
}

/** The serialization header names another ciphersuite. */
export class CiphersuiteMismatchError extends FrostError {
  override readonly code = 'CIPHERSUITE_MISMATCH';
  override name = 'CiphersuiteMismatchError';
}

/** The serialization header has a version this library does not read. */
export class UnsupportedVersionError extends FrostError {
  override readonly code = 'UNSUPPORTED_VERSION';
  override name = 'UnsupportedVersionError';
}

/** Identifier is zero, out of range, or not a canonical scalar. */
export class InvalidIdentifierError extends FrostError {
  override readonly code = 'INVALID_IDENTIFIER';
  override name = 'InvalidIdentifierError';
}

/** A scalar encoding is not canonical (≥ group order) or has the wrong length. RFC 9591 §6.1 DeserializeScalar. */
export class InvalidScalarError extends FrostError {
  override readonly code = 'INVALID_SCALAR';
  override name = 'InvalidScalarError';
}

/**
 * A point encoding does not decode to a valid element: not canonical, not on the curve, the identity,
 * or outside the prime-order subgroup. RFC 9591 §6.1 DeserializeElement.
 */
export class InvalidPointError extends FrostError {
  override readonly code = 'INVALID_POINT';
  override name = 'InvalidPointError';
}

/** Threshold / participant counts outside what the scheme allows. */
export class InvalidParametersError extends FrostError {
  override readonly code = 'INVALID_PARAMETERS';
  override name = 'InvalidParametersError';
}

/** Key material that is well-formed but inconsistent (share does not match its verifying share, ...). */
export class InconsistentKeyError extends FrostError {
  override readonly code = 'INCONSISTENT_KEY';
  override name = 'InconsistentKeyError';
}

/** An identifier that the key set does not contain. */
export class UnknownIdentifierError extends FrostError {
  override readonly code = 'UNKNOWN_IDENTIFIER';
  override name = 'UnknownIdentifierError';
}

/** Signing package unusable: too few commitments, duplicates, message missing, signer not included. */
export class InvalidSigningPackageError extends FrostError {
  override readonly code = 'INVALID_SIGNING_PACKAGE';
  override name = 'InvalidSigningPackageError';
}

/** The commitment listed for this signer is not the one its nonces produced. */
export class IncorrectCommitmentError extends FrostError {
  override readonly code = 'INCORRECT_COMMITMENT';
  override name = 'IncorrectCommitmentError';
}

/**
 * The group commitment R of a signing package is the identity element. A signer refuses to answer
 * with a share for it (a signature with R = identity would give away the group secret as z/c).
 * frost-rs refuses it too (`IdentityCommitment`, and `InvalidIdentityElement` when encoding R).
 */
export class IdentityCommitmentError extends FrostError {
  override readonly code = 'IDENTITY_COMMITMENT';
  override name = 'IdentityCommitmentError';
}

/** Signing nonces were already consumed by a previous `round2.sign`. */
export class NonceReuseError extends FrostError {
  override readonly code = 'NONCE_REUSE';
  override name = 'NonceReuseError';
}

/** One or more signature shares failed verification; `culprits` names every one of them. RFC 9591 §5.4. */
export class InvalidSignatureShareError extends FrostError {
  override readonly code = 'INVALID_SIGNATURE_SHARE';
  override name = 'InvalidSignatureShareError';
}

/** A signature share is missing for a participant of the signing package. */
export class MissingSignatureShareError extends FrostError {
  override readonly code = 'MISSING_SIGNATURE_SHARE';
  override name = 'MissingSignatureShareError';
}

/** The aggregate signature does not verify under the group key. */
export class InvalidSignatureError extends FrostError {
  override readonly code = 'INVALID_SIGNATURE';
  override name = 'InvalidSignatureError';
}

/**
 * A DKG round-1 package's proof of knowledge of its constant term does not verify for the sender
 * that delivered it; `culprits` names every such sender. frost-rs `InvalidProofOfKnowledge`.
 */
export class InvalidProofOfKnowledgeError extends FrostError {
  override readonly code = 'INVALID_PROOF_OF_KNOWLEDGE';
  override name = 'InvalidProofOfKnowledgeError';
}

/**
 * A secret share received in DKG or refresh round 2 does not match its sender's round-1 commitment
 * (Feldman VSS check); `culprits` names every such sender. frost-rs `InvalidSecretShare`.
 */
export class InvalidSecretShareError extends FrostError {
  override readonly code = 'INVALID_SECRET_SHARE';
  override name = 'InvalidSecretShareError';
}

/** A DKG or refresh commitment has the wrong number of coefficient commitments; `culprits` names the senders. */
export class InvalidCommitmentError extends FrostError {
  override readonly code = 'INVALID_COMMITMENT';
  override name = 'InvalidCommitmentError';
}

/** A DKG or refresh package is missing; `culprits` names the participants it should have come from, when known. */
export class MissingPackageError extends FrostError {
  override readonly code = 'MISSING_PACKAGE';
  override name = 'MissingPackageError';
}

/**
 * A DKG or refresh package came from a sender that does not take part (unknown, or the receiver
 * itself); `culprits` names those senders when known.
 */
export class UnexpectedPackageError extends FrostError {
  override readonly code = 'UNEXPECTED_PACKAGE';
  override name = 'UnexpectedPackageError';
}

/** Two DKG or refresh packages of one round claim the same sender; `culprits` names it. */
export class DuplicatePackageError extends FrostError {
  override readonly code = 'DUPLICATE_PACKAGE';
  override name = 'DuplicatePackageError';
}

/** A round-1 package given to the last DKG or refresh step is not the one the second step used; `culprits` names its sender. */
export class PackageMismatchError extends FrostError {
  override readonly code = 'PACKAGE_MISMATCH';
  override name = 'PackageMismatchError';
}

/** A DKG or refresh round-1 secret package was already used by a successful second step. */
export class SecretPackageReuseError extends FrostError {
  override readonly code = 'SECRET_PACKAGE_REUSE';
  override name = 'SecretPackageReuseError';
}

/** Every concrete error class, for table-driven tests and for services mapping codes to statuses. */
export const errorClasses = [
  MalformedInputError,
  UnknownFieldError,
  MissingFieldError,
  CiphersuiteMismatchError,
  UnsupportedVersionError,
  InvalidIdentifierError,
  InvalidScalarError,
  InvalidPointError,
  InvalidParametersError,
  InconsistentKeyError,
  UnknownIdentifierError,
  InvalidSigningPackageError,
  IncorrectCommitmentError,
  IdentityCommitmentError,
  NonceReuseError,
  InvalidSignatureShareError,
  MissingSignatureShareError,
  InvalidSignatureError,
  InvalidProofOfKnowledgeError,
  InvalidSecretShareError,
  InvalidCommitmentError,
  MissingPackageError,
  UnexpectedPackageError,
  DuplicatePackageError,
  PackageMismatchError,
  SecretPackageReuseError,
] as const;
