/**
 * Errors of the service runtime. Every class has a stable `code`; HTTP statuses live in each
 * service's status table.
 * @module
 */

/** Base class: every error thrown by this package is a `RuntimeError`. */
export class RuntimeError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'RuntimeError';
    this.code = code;
  }
}

/** A configuration value is missing or invalid: the service refuses to start (exit 78). */
export class ConfigError extends RuntimeError {
  override name = 'ConfigError';
  constructor(message: string) {
    super('INVALID_CONFIG', message);
  }
}

/** Codes of {@link ClientAuthError}. */
export type ClientAuthErrorCode = 'CLIENT_CERT_REQUIRED' | 'CLIENT_CERT_UNTRUSTED' | 'CLIENT_IDENTITY_NOT_ALLOWED';

/** The TLS client did not present an allowed certificate. */
export class ClientAuthError extends RuntimeError {
  declare readonly code: ClientAuthErrorCode;
  override name = 'ClientAuthError';
  constructor(code: ClientAuthErrorCode, message: string) {
    super(code, message);
  }
}

/** Codes of {@link BodyError}. */
export type BodyErrorCode = 'PAYLOAD_TOO_LARGE' | 'BODY_UNREADABLE' | 'BODY_TIMEOUT';

/** A request body could not be read whole within its limit. */
export class BodyError extends RuntimeError {
  declare readonly code: BodyErrorCode;
  override name = 'BodyError';
  constructor(code: BodyErrorCode, message: string) {
    super(code, message);
  }
}

/** Codes of {@link AuditError}. */
export type AuditErrorCode = 'AUDIT_INVALID_EVENT' | 'AUDIT_FILE_DAMAGED' | 'AUDIT_WRITE_FAILED' | 'AUDIT_BACKLOG' | 'AUDIT_CLOSED';

/** An audit record could not be accepted or written (see audit.ts). */
export class AuditError extends RuntimeError {
  declare readonly code: AuditErrorCode;
  override name = 'AuditError';
  constructor(code: AuditErrorCode, message: string) {
    super(code, message);
  }
}

/** Every concrete error class, for the table-driven test. */
export const errorClasses = [ConfigError, ClientAuthError, BodyError, AuditError] as const;
