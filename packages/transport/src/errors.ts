/**
 * Transport errors: every class has a stable `code` and the HTTP status a service answers with.
 * @module
 */

export class TransportError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.code = code;
    this.status = status;
  }
}

/** Authentication of the caller failed (client certificate or bearer token). */
export class AuthError extends TransportError {
  override name = 'AuthError';
}

/** The request body is not what the RPC expects. */
export class BadRequestError extends TransportError {
  override name = 'BadRequestError';
  constructor(code: string, message: string, status = 400) {
    super(code, status, message);
  }
}

/** A signer answered with an error, or could not be reached. */
export class SignerRpcError extends TransportError {
  override name = 'SignerRpcError';
  /** Base URL of the signer that failed. */
  readonly signer: string;
  constructor(signer: string, code: string, status: number, message: string, options?: { cause?: unknown }) {
    super(code, status, message, options);
    this.signer = signer;
  }
}
