/**
 * The signer's errors and their HTTP statuses. Every refusal leaves the signer as one of the
 * documented wire codes (SIGNER_ERROR_CODES in @hoarfrost/rpc), with a status from the one table here.
 * @module
 */
import { FrostError } from '@hoarfrost/frost';
import { RpcError, isSignerErrorCode, type SignerErrorCode } from '@hoarfrost/rpc';
import { BodyError, ClientAuthError } from '@hoarfrost/runtime';

/** A refusal raised by the signer itself, with one of the documented wire codes. */
export class SignerError extends Error {
  readonly code: SignerErrorCode;
  constructor(code: SignerErrorCode, message: string) {
    super(message);
    this.name = 'SignerError';
    this.code = code;
  }
}

/** Wire code → HTTP status: the only place the signer decides statuses. */
export const STATUS: Readonly<Record<SignerErrorCode, number>> = {
  CLIENT_CERT_REQUIRED: 401,
  CLIENT_CERT_UNTRUSTED: 403,
  CLIENT_IDENTITY_NOT_ALLOWED: 403,
  TOKEN_MISSING: 401,
  TOKEN_MALFORMED: 401,
  TOKEN_INVALID: 401,
  TOKEN_ALG_NOT_ALLOWED: 401,
  TOKEN_WRONG_TYPE: 401,
  TOKEN_UNKNOWN_KEY: 401,
  TOKEN_BAD_SIGNATURE: 401,
  TOKEN_CLAIM_INVALID: 401,
  TOKEN_WRONG_ISSUER: 401,
  TOKEN_WRONG_AUDIENCE: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_LIFETIME_TOO_LONG: 401,
  TOKEN_PATH_MISMATCH: 401,
  TOKEN_BODY_MISMATCH: 401,
  TOKEN_REPLAYED: 401,
  MALFORMED_CBOR: 400,
  INVALID_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  REQUEST_TIMEOUT: 408,
  UNSUPPORTED_MEDIA_TYPE: 415,
  METHOD_NOT_ALLOWED: 405,
  NOT_FOUND: 404,
  UNKNOWN_KEY: 404,
  NOT_A_PARTICIPANT: 400,
  UNKNOWN_PARTICIPANT: 400,
  INVALID_IDENTIFIER: 400,
  INVALID_POINT: 400,
  INVALID_SIGNING_PACKAGE: 400,
  IDENTITY_COMMITMENT: 400,
  COMMITMENT_ALREADY_USED: 409,
  COMMITMENT_KEY_MISMATCH: 409,
  UNKNOWN_COMMITMENT: 409,
  COMMITMENT_EXPIRED: 409,
  KEY_VERSION_CHANGED: 409,
  KEY_NOT_ACTIVE: 409,
  KEY_RETIRED: 409,
  KEY_EXISTS: 409,
  KEY_NOT_RETIRED: 409,
  DKG_REFUSED: 400,
  DKG_SESSION_UNKNOWN: 409,
  DKG_BUSY: 503,
  DKG_UNAVAILABLE: 503,
  POLICY_MESSAGE_TOO_LARGE: 403,
  POLICY_EMPTY_MESSAGE: 403,
  POLICY_NOT_JWS: 403,
  POLICY_JWS_HEADER: 403,
  POLICY_JWS_ALG: 403,
  POLICY_JWS_PAYLOAD: 403,
  POLICY_JWS_MISSING_CLAIM: 403,
  SHUTTING_DOWN: 503,
  AUDIT_UNAVAILABLE: 503,
  REPLAY_CACHE_FULL: 503,
  INTERNAL: 500,
};

/** What an RPC answers for `err`: a documented code, its status and a message (never a stack). */
export interface WireRefusal {
  code: SignerErrorCode;
  status: number;
  message: string;
  /** Not one of the expected refusals: worth an error log line. */
  unexpected: boolean;
}

/**
 * Maps any error to a documented wire code. Errors of the libraries carry their own codes; a code
 * outside the documented set (a FrostError this table does not name) is a bad signing package when
 * it came from the protocol library, and INTERNAL otherwise.
 */
export function toWireRefusal(err: unknown): WireRefusal {
  if (err instanceof SignerError || err instanceof RpcError || err instanceof ClientAuthError || err instanceof BodyError || err instanceof FrostError) {
    const code: SignerErrorCode = isSignerErrorCode(err.code)
      ? err.code
      : err instanceof FrostError
        ? 'INVALID_SIGNING_PACKAGE'
        : err.code === 'BODY_UNREADABLE'
          ? 'INVALID_REQUEST'
          : err.code === 'BODY_TIMEOUT'
            ? 'REQUEST_TIMEOUT'
            : 'INTERNAL';
    return { code, status: STATUS[code], message: code === 'INTERNAL' ? 'internal error' : err.message, unexpected: code === 'INTERNAL' };
  }
  return { code: 'INTERNAL', status: 500, message: 'internal error', unexpected: true };
}
