/**
 * Errors of the signer RPC layer. Every class has a stable `code`; none knows about HTTP statuses
 * (each service maps codes to statuses in its own table).
 * @module
 */
import type { SignerErrorCode } from './protocol.js';

/** Base class: every error thrown by this package is an `RpcError`. */
export class RpcError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RpcError';
    this.code = code;
  }
}

/** A constructor or factory was given a bad option (fails at start-up, never mid-request). */
export class InvalidArgumentError extends RpcError {
  override name = 'InvalidArgumentError';
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** Codes of {@link TokenError}: why an RPC token was refused. */
export type TokenErrorCode =
  | 'TOKEN_MISSING'
  | 'TOKEN_MALFORMED'
  | 'TOKEN_INVALID'
  | 'TOKEN_ALG_NOT_ALLOWED'
  | 'TOKEN_WRONG_TYPE'
  | 'TOKEN_UNKNOWN_KEY'
  | 'TOKEN_BAD_SIGNATURE'
  | 'TOKEN_CLAIM_INVALID'
  | 'TOKEN_WRONG_ISSUER'
  | 'TOKEN_WRONG_AUDIENCE'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_LIFETIME_TOO_LONG'
  | 'TOKEN_PATH_MISMATCH'
  | 'TOKEN_BODY_MISMATCH'
  | 'TOKEN_REPLAYED'
  | 'REPLAY_CACHE_FULL';

/** An RPC token was refused (signature, claims, binding to the request, or replay). */
export class TokenError extends RpcError {
  declare readonly code: TokenErrorCode;
  override name = 'TokenError';
  constructor(code: TokenErrorCode, message: string) {
    super(code, message);
  }
}

/** Codes of {@link WireFormatError}. */
export type WireFormatErrorCode = 'MALFORMED_CBOR' | 'INVALID_REQUEST';

/** A message body is not the CBOR item, or not the shape, that the RPC defines. */
export class WireFormatError extends RpcError {
  declare readonly code: WireFormatErrorCode;
  override name = 'WireFormatError';
  constructor(code: WireFormatErrorCode, message: string) {
    super(code, message);
  }
}

/** Codes of a failed call that are not an answer of the signer. */
export type CallFailureCode =
  /**
   * No answer within the time allowed: the caller's signal fired (its reason is the error's `cause`),
   * or the client's own connect, headers or body timeout.
   */
  | 'SIGNER_TIMEOUT'
  /** No connection, or the connection broke. */
  | 'SIGNER_UNREACHABLE'
  /** The answer is larger than the client's cap, not the strict CBOR of the protocol, or not the RPC's response shape. */
  | 'SIGNER_BAD_RESPONSE'
  /** The answer carries invalid cryptographic values (a point or scalar that does not decode). */
  | 'SIGNER_INVALID_RESPONSE'
  /** The signer answered with another participant identifier than the one it holds. */
  | 'SIGNER_IDENTITY_CHANGED'
  /** The signer answered with an error code outside the documented set. */
  | 'SIGNER_ERROR';

/**
 * A call to a signer failed: either the signer answered with one of the documented error codes
 * ({@link SIGNER_ERROR_CODES}), or the call failed on this side ({@link CallFailureCode}). A code the
 * signer sent that is not in the documented set arrives as `SIGNER_ERROR`: nothing a signer writes
 * reaches a metric label or a client message verbatim.
 */
export class SignerCallError extends RpcError {
  declare readonly code: SignerErrorCode | CallFailureCode;
  override name = 'SignerCallError';
  /** The signer's id in the registry. */
  readonly signer: string;
  constructor(signer: string, code: SignerErrorCode | CallFailureCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.signer = signer;
  }
}

/** Every concrete error class, for the table-driven test. */
export const errorClasses = [InvalidArgumentError, TokenError, WireFormatError, SignerCallError] as const;
