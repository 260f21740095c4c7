/**
 * The relay's errors. Each refusal has a stable code (the `reason` of every error body and the label of
 * frost_relay_refusals_total); STATUS maps codes to HTTP statuses in one table, and WIRE maps each code to
 * the error frostd's clients understand.
 *
 * frostd answers its own errors with HTTP 500 and `{"code":n,"msg":"...","error":{"code":"<Variant>"}}`
 * (1 InvalidArgument, 2 Unauthorized, 3 SessionNotFound, 4 NotCoordinator, 5 NotInSession); frost-client
 * parses that body only on a 500. So every refusal a frostd client must be able to read is a 500 with one
 * of those variants, the relay's own bounds included (as InvalidArgument, whose text frost-client prints);
 * transport refusals keep the statuses frostd's HTTP stack gives them (400 bad JSON, 415 no JSON content
 * type, 422 JSON of the wrong shape, 404, 405, 413) or their usual ones (408, 429, 503), with the same
 * body shape and frostd's "unknown" code 255.
 * @module
 */
import { BodyError } from '@hoarfrost/runtime';

/** Stable code → HTTP status: the only place the relay decides statuses. */
export const STATUS = {
  INVALID_ARGUMENT: 500,
  UNAUTHORIZED: 500,
  SESSION_NOT_FOUND: 500,
  NOT_COORDINATOR: 500,
  NOT_IN_SESSION: 500,
  MESSAGE_TOO_LARGE: 500,
  TOO_MANY_MEMBERS: 500,
  TOO_MANY_SESSIONS: 500,
  RELAY_FULL: 500,
  SESSION_QUEUE_FULL: 500,
  RELAY_QUEUE_FULL: 500,
  INVALID_JSON: 400,
  UNPROCESSABLE_JSON: 422,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  REQUEST_TIMEOUT: 408,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UPGRADE_REQUIRED: 426,
  THROTTLED: 429,
  CHALLENGES_EXHAUSTED: 503,
  SHUTTING_DOWN: 503,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type RelayErrorCode = keyof typeof STATUS;

/** frostd's error variants and their numbers (frost-client's `api::Error`). */
export const FROSTD_VARIANTS = { InvalidArgument: 1, Unauthorized: 2, SessionNotFound: 3, NotCoordinator: 4, NotInSession: 5 } as const;
type FrostdVariant = keyof typeof FROSTD_VARIANTS;
/** frostd's number for an error it does not name. */
export const UNKNOWN_ERROR_NUMBER = 255;

/** Code → the variant on the wire: frostd's where a frostd client must read it, else a name of ours. */
export const WIRE: Readonly<Record<RelayErrorCode, FrostdVariant | string>> = {
  INVALID_ARGUMENT: 'InvalidArgument',
  UNAUTHORIZED: 'Unauthorized',
  SESSION_NOT_FOUND: 'SessionNotFound',
  NOT_COORDINATOR: 'NotCoordinator',
  NOT_IN_SESSION: 'NotInSession',
  MESSAGE_TOO_LARGE: 'InvalidArgument',
  TOO_MANY_MEMBERS: 'InvalidArgument',
  TOO_MANY_SESSIONS: 'InvalidArgument',
  RELAY_FULL: 'InvalidArgument',
  SESSION_QUEUE_FULL: 'InvalidArgument',
  RELAY_QUEUE_FULL: 'InvalidArgument',
  INVALID_JSON: 'InvalidJson',
  UNPROCESSABLE_JSON: 'UnprocessableJson',
  UNSUPPORTED_MEDIA_TYPE: 'UnsupportedMediaType',
  PAYLOAD_TOO_LARGE: 'PayloadTooLarge',
  REQUEST_TIMEOUT: 'RequestTimeout',
  NOT_FOUND: 'NotFound',
  METHOD_NOT_ALLOWED: 'MethodNotAllowed',
  UPGRADE_REQUIRED: 'UpgradeRequired',
  THROTTLED: 'Throttled',
  CHALLENGES_EXHAUSTED: 'ChallengesExhausted',
  SHUTTING_DOWN: 'ShuttingDown',
  STORE_UNAVAILABLE: 'StoreUnavailable',
  INTERNAL: 'Internal',
};

/** frostd's message text of each of its variants (frost-client's Display of `api::Error`). */
const FROSTD_TEXT: Record<FrostdVariant, string> = {
  InvalidArgument: 'invalid or missing argument',
  Unauthorized: 'client did not provide proper authorization credentials',
  SessionNotFound: 'session was not found',
  NotCoordinator: 'user is not the coordinator',
  NotInSession: 'user is not part of the given session',
};

/** A refusal with a stable code; `detail` says which argument or bound (never secrets or contents). */
export class RelayError extends Error {
  readonly code: RelayErrorCode;
  readonly detail: string | undefined;
  /** Seconds a throttled client should wait (429 Retry-After). */
  readonly retryAfterSeconds: number | undefined;
  constructor(code: RelayErrorCode, detail?: string, options: { retryAfterSeconds?: number } = {}) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'RelayError';
    this.code = code;
    this.detail = detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return STATUS[this.code];
  }
}

/** The JSON body of an error: frostd's LowError shape plus `reason`, the stable code. */
export interface ErrorBody {
  code: number;
  msg: string;
  error: { code: string; err?: string };
  reason: RelayErrorCode;
}

/** The body every refusal carries. InvalidArgument carries its text in `err`, as frostd serializes it. */
export function errorBody(e: RelayError): ErrorBody {
  const variant = WIRE[e.code];
  const frostd = Object.hasOwn(FROSTD_VARIANTS, variant) ? (variant as FrostdVariant) : undefined;
  if (frostd === 'InvalidArgument') {
    const err = e.detail ?? 'argument';
    return { code: FROSTD_VARIANTS.InvalidArgument, msg: `${FROSTD_TEXT.InvalidArgument}: ${err}`, error: { code: variant, err }, reason: e.code };
  }
  if (frostd) return { code: FROSTD_VARIANTS[frostd], msg: FROSTD_TEXT[frostd], error: { code: variant }, reason: e.code };
  return { code: UNKNOWN_ERROR_NUMBER, msg: e.detail ?? e.code.toLowerCase().replace(/_/g, ' '), error: { code: variant }, reason: e.code };
}

const BODY_ERRORS = { PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE', BODY_TIMEOUT: 'REQUEST_TIMEOUT', BODY_UNREADABLE: 'INVALID_JSON' } as const satisfies Record<BodyError['code'], RelayErrorCode>;

/** Any error as a relay error: relay errors as they are, body errors by their codes, the rest INTERNAL. */
export function toRelayError(err: unknown): RelayError {
  if (err instanceof RelayError) return err;
  if (err instanceof BodyError) return new RelayError(BODY_ERRORS[err.code], err.message);
  return new RelayError('INTERNAL', 'internal error');
}
