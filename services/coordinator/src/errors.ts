/**
 * Errors of the public API. Each has a stable code; STATUS maps codes to HTTP statuses in one table.
 * @module
 */

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly culprits: number[];
  constructor(code: string, message: string, options: { status?: number; culprits?: number[] } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = options.status ?? STATUS[code] ?? 500;
    this.culprits = options.culprits ?? [];
  }
}

/** Stable error code → HTTP status. */
export const STATUS: Record<string, number> = {
  INVALID_JSON: 400,
  INVALID_REQUEST: 400,
  UNKNOWN_FIELD: 400,
  INVALID_BASE64: 400,
  MESSAGE_TOO_LARGE: 413,
  INVALID_PARTICIPANTS: 400,
  UNKNOWN_PARTICIPANT: 400,
  TOO_FEW_PARTICIPANTS: 400,
  SIGNER_URL_NOT_ALLOWED: 403,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  CLIENT_CERT_REQUIRED: 401,
  CLIENT_CERT_UNTRUSTED: 403,
  CLIENT_IDENTITY_NOT_ALLOWED: 403,
  UNAUTHENTICATED: 401,
  TOKEN_INVALID: 401,
  THROTTLED: 429,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  POLICY_REFUSED: 403,
  QUORUM_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 503,
  SHUTTING_DOWN: 503,
  NOT_READY: 503,
  INTERNAL: 500,
};
