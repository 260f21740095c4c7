/**
 * The service runtime shared by the coordinator and the signers: configuration readers, server
 * lifecycle and drain, the operations listener, logging, request bodies, mTLS client checks, the
 * hash-chained audit trail.
 * @module
 */
export { RuntimeError, ConfigError, ClientAuthError, BodyError, AuditError, errorClasses } from './errors.js';
export type { ClientAuthErrorCode, BodyErrorCode, AuditErrorCode } from './errors.js';
export { EnvReader, type Env } from './env.js';
export { listen, trackInFlight, drain, closeServer, runUntilSignal, type InFlight, type DrainOptions } from './lifecycle.js';
export { createOpsServer, type OpsOptions } from './ops.js';
export { createLogger, REDACT_PATHS, type Logger } from './logger.js';
export { readBody, DEFAULT_BODY_TIMEOUT_MS, type ReadBodyOptions } from './http-body.js';
export { mtlsServerOptions, assertClientIdentity, sanMatches, subjectAltNames } from './tls.js';
export { createAuditTrail, openServiceAuditTrail, verifyAuditChain, AuditChainVerifier, AUDIT_GENESIS_PREV, type AuditTrail, type AuditTrailOptions, type AuditVerification, type AuditVerifyOptions, type AuditChainSummary, type ServiceAuditConfig } from './audit.js';
