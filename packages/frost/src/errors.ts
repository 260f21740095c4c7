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
  NonceReuseError,
  InvalidSignatureShareError,
  MissingSignatureShareError,
  InvalidSignatureError,
] as const;
