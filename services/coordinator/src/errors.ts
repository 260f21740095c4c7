/**
 * Errors of the public API. Each has a stable code; STATUS maps codes to HTTP statuses in one table,
 * and {@link toApiError} is the one place other errors become API errors.
 * @module
 */
import { BodyError, ClientAuthError } from '@hoarfrost/runtime';

/** Stable error code → HTTP status: the public contract (services/coordinator/openapi.json). */
export const STATUS = {
  INVALID_JSON: 400,
  INVALID_REQUEST: 400,
  UNKNOWN_FIELD: 400,
  INVALID_BASE64: 400,
  INVALID_PARTICIPANTS: 400,
  UNKNOWN_PARTICIPANT: 400,
  TOO_FEW_PARTICIPANTS: 400,
  SIGNER_URL_NOT_ALLOWED: 403,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  MESSAGE_TOO_LARGE: 413,
  BATCH_TOO_LARGE: 413,
  REQUEST_TIMEOUT: 408,
  CLIENT_CERT_REQUIRED: 401,
  CLIENT_CERT_UNTRUSTED: 403,
  CLIENT_IDENTITY_NOT_ALLOWED: 403,
  UNAUTHENTICATED: 401,
  TOKEN_INVALID: 401,
  TOKEN_REPLAYED: 401,
  THROTTLED: 429,
  NOT_FOUND: 404,
  UNKNOWN_KEY: 404,
  KEY_NOT_ACTIVE: 409,
  KEY_RETIRED: 409,
  KEY_EXISTS: 409,
  KEY_NOT_RETIRED: 409,
  KEY_RETIRE_INCOMPLETE: 503,
  JWS_HEADER_NOT_ALLOWED: 400,
  METHOD_NOT_ALLOWED: 405,
  POLICY_REFUSED: 403,
  QUORUM_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 503,
  SHUTTING_DOWN: 503,
  AUDIT_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ApiErrorCode = keyof typeof STATUS;

/**
 * Codes only the admin API answers (key management): never an outcome of a signing request, so not
 * in the signing SLO's error ratio.
 */
export const ADMIN_ONLY_CODES: readonly ApiErrorCode[] = ['KEY_EXISTS', 'KEY_NOT_RETIRED', 'KEY_RETIRE_INCOMPLETE'];

/**
 * A participant as the public API names it: its number when the identifier is a small integer (the
 * usual 1..n of dealer keys), else the 64-hex-character identifier (derived identifiers).
 */
export type ParticipantId = number | string;

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly culprits: readonly ParticipantId[];
  constructor(code: ApiErrorCode, message: string, options: { culprits?: readonly ParticipantId[] } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.culprits = options.culprits ?? [];
  }

  get status(): number {
    return STATUS[this.code];
  }
}

const BODY_ERRORS = { PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE', BODY_TIMEOUT: 'REQUEST_TIMEOUT', BODY_UNREADABLE: 'INVALID_REQUEST' } as const satisfies Record<BodyError['code'], ApiErrorCode>;

/**
 * Any error as an API error: API errors as they are; the runtime's client-certificate and body
 * errors by their codes; anything else is INTERNAL (the caller logs it; no message leaks).
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ClientAuthError) return new ApiError(err.code, err.message);
  if (err instanceof BodyError) return new ApiError(BODY_ERRORS[err.code], err.message);
  return new ApiError('INTERNAL', 'internal error');
}
