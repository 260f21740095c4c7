/**
 * Coordinator configuration: the only module that reads the environment (COORDINATOR_* variables).
 * Validated and frozen at start. Secrets (TLS keys, JWT key) are files named here.
 * @module
 */
import { KEY_ID_RE } from '@hoarfrost/rpc';
import type { BackendName } from '@hoarfrost/frost';
import { ConfigError, EnvReader, type Env } from '@hoarfrost/runtime';

export interface SignerEntry {
  /** Signer name: its certificate's DNS SAN (pinned) and the `aud` of tokens sent to it. */
  id: string;
  url: string;
}

export type InboundAuthMode = 'mtls' | 'jwt' | 'mtls-or-jwt' | 'mtls-and-jwt';

export interface CoordinatorConfig {
  host: string;
  port: number;
  opsHost: string;
  opsPort: number;
  tls: { certFile: string; keyFile: string; clientCaFile?: string };
  auth: {
    mode: InboundAuthMode;
    /** Client-certificate SANs allowed to call /sign (required in the modes that use mTLS). */
    allowedClientSans: string[];
    jwksFile?: string;
    /** Required in the modes that use JWTs. */
    jwtIssuer?: string;
    jwtAudience: string;
    /** Longest lifetime (exp − iat) a caller's token may have; each token is single-use (jti). */
    jwtMaxAgeSeconds: number;
    /** Caller tokens remembered for replay protection (bounded; full: new tokens are refused). */
    jwtReplayCacheMax: number;
  };
  signerTls: { certFile: string; keyFile: string; caFile: string };
  rpcJwt: { keyFile: string; kid: string; issuer: string; lifetimeSeconds: number };
  signers: SignerEntry[];
  publicKeyPackageFile: string;
  keyId: string;
  maxBodyBytes: number;
  /** Time a caller has to send a whole request body once its headers arrived. */
  bodyTimeoutMs: number;
  /**
   * Largest message accepted for signing. The signers' own limits (their info RPC) lower it further:
   * a larger message is refused with 413 before any round, never sent to a signer.
   */
  maxMessageBytes: number;
  signDeadlineMs: number;
  signerTimeoutMs: number;
  breaker: { failureThreshold: number; cooldownMs: number };
  healthIntervalMs: number;
  /** Preprocessing: commitments fetched ahead per signer (0 disables), and the batch size of a refill. */
  preprocess: { poolSize: number; batch: number };
  maxInFlight: number;
  /** Of maxInFlight, the most one authenticated principal may hold at a time. */
  maxInFlightPerPrincipal: number;
  auditLogMessage: boolean;
  /**
   * The hash-chained audit trail: records always go to the log (at level info) and, with `file`, to
   * that file too (one per replica). `failClosed`: a signature whose record cannot be written is not
   * returned (503 AUDIT_UNAVAILABLE), and the coordinator reports not ready once its trail failed.
   */
  audit: { file?: string; sync: boolean; failClosed: boolean };
  /** Group arithmetic backend of the protocol library: `auto` takes the fastest that loads. */
  groupBackend: 'auto' | BackendName;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Write every log record synchronously (durable audit lines) instead of buffered. */
  logSync: boolean;
  /** After SIGTERM: serving on (readiness failed) while endpoints follow, then the in-flight grace. */
  shutdownDelayMs: number;
  shutdownGraceMs: number;
}

function parseSigners(list: string[], name: string): SignerEntry[] {
  if (list.length === 0) throw new ConfigError(`${name} is required: comma-separated id=https://host:port`);
  const out = list.map((item) => {
    const m = /^([A-Za-z0-9][A-Za-z0-9.-]{0,252})=(https:\/\/.+)$/.exec(item);
    if (!m) throw new ConfigError(`${name}: "${item}" is not id=https://host:port`);
    let url: URL;
    try {
      url = new URL(m[2]!);
    } catch {
      throw new ConfigError(`${name}: "${m[2]}" is not a URL`);
    }
    if (url.pathname !== '/' || url.search || url.hash || url.username) throw new ConfigError(`${name}: "${m[2]}" must be a bare origin`);
    return { id: m[1]!, url: url.origin };
  });
  if (new Set(out.map((s) => s.id)).size !== out.length) throw new ConfigError(`${name}: signer ids must be unique`);
  if (new Set(out.map((s) => s.url)).size !== out.length) throw new ConfigError(`${name}: signer URLs must be unique`);
  return out;
}

export function loadConfig(env: Env): Readonly<CoordinatorConfig> {
  const r = new EnvReader(env, 'COORDINATOR_');
  const mode = r.oneOf('AUTH_MODE', ['mtls', 'jwt', 'mtls-or-jwt', 'mtls-and-jwt'] as const, 'mtls');
  const clientCaFile = r.optionalString('TLS_CLIENT_CA_FILE');
  const jwksFile = r.optionalString('AUTH_JWKS_FILE');
  if (mode !== 'jwt' && !clientCaFile) throw new ConfigError(`${r.name('TLS_CLIENT_CA_FILE')} is required for AUTH_MODE=${mode}`);
  if (mode !== 'mtls' && !jwksFile) throw new ConfigError(`${r.name('AUTH_JWKS_FILE')} is required for AUTH_MODE=${mode}`);
  const allowedClientSans = r.list('ALLOWED_CLIENT_SANS');
  // Any certificate of the caller CA is not an authorization: the callers are named.
  if (mode !== 'jwt' && allowedClientSans.length === 0) throw new ConfigError(`${r.name('ALLOWED_CLIENT_SANS')} is required for AUTH_MODE=${mode}: the SANs of the callers allowed to sign`);
  const jwtIssuer = r.optionalString('AUTH_JWT_ISSUER');
  if (mode !== 'mtls' && !jwtIssuer) throw new ConfigError(`${r.name('AUTH_JWT_ISSUER')} is required for AUTH_MODE=${mode}`);
  const maxInFlight = r.int('MAX_IN_FLIGHT', 256, 1, 100_000);
  const maxMessageBytes = r.int('MAX_MESSAGE_BYTES', 64 * 1024, 1, 16 * 1024 * 1024);
  // By default a body holds the largest message in base64 and the other fields, not more.
  const maxBodyBytes = r.int('MAX_BODY_BYTES', Math.ceil(maxMessageBytes / 3) * 4 + 16 * 1024, 1024, 64 * 1024 * 1024);
  const keyId = r.string('KEY_ID', 'default');
  if (!KEY_ID_RE.test(keyId)) throw new ConfigError(`${r.name('KEY_ID')} must match ${KEY_ID_RE.source}`);
  const signerTimeoutMs = r.int('SIGNER_TIMEOUT_MS', 2000, 50, 60_000);
  const signDeadlineMs = r.int('SIGN_DEADLINE_MS', 5000, 100, 120_000);
  if (signerTimeoutMs > signDeadlineMs) throw new ConfigError(`${r.name('SIGNER_TIMEOUT_MS')} must not exceed ${r.name('SIGN_DEADLINE_MS')}`);
  if (r.bool('AUDIT_SYNC', false) && !r.optionalString('AUDIT_FILE')) throw new ConfigError(`${r.name('AUDIT_SYNC')} needs ${r.name('AUDIT_FILE')}`);
  const config: CoordinatorConfig = {
    host: r.string('HOST', '0.0.0.0'),
    port: r.port('PORT', 8443),
    opsHost: r.string('OPS_HOST', '0.0.0.0'),
    opsPort: r.port('OPS_PORT', 9090),
    tls: { certFile: r.string('TLS_CERT_FILE'), keyFile: r.string('TLS_KEY_FILE'), ...(clientCaFile ? { clientCaFile } : {}) },
    auth: {
      mode,
      allowedClientSans,
      ...(jwksFile ? { jwksFile } : {}),
      ...(jwtIssuer ? { jwtIssuer } : {}),
      jwtAudience: r.string('AUTH_JWT_AUDIENCE', 'frost-coordinator'),
      jwtMaxAgeSeconds: r.int('AUTH_JWT_MAX_AGE_SECONDS', 300, 1, 3600),
      jwtReplayCacheMax: r.int('AUTH_JWT_REPLAY_CACHE_MAX', 100_000, 1000, 10_000_000),
    },
    signerTls: { certFile: r.string('SIGNER_CLIENT_CERT_FILE'), keyFile: r.string('SIGNER_CLIENT_KEY_FILE'), caFile: r.string('SIGNER_CA_FILE') },
    rpcJwt: {
      keyFile: r.string('RPC_JWT_KEY_FILE'),
      kid: r.string('RPC_JWT_KID'),
      issuer: r.string('RPC_JWT_ISSUER', 'frost-coordinator'),
      lifetimeSeconds: r.int('RPC_JWT_LIFETIME_SECONDS', 30, 1, 60),
    },
    signers: parseSigners(r.list('SIGNERS'), r.name('SIGNERS')),
    publicKeyPackageFile: r.string('PUBLIC_KEY_PACKAGE_FILE'),
    keyId,
    maxBodyBytes,
    bodyTimeoutMs: r.int('BODY_TIMEOUT_MS', 5000, 100, 60_000),
    maxMessageBytes,
    signDeadlineMs,
    signerTimeoutMs,
    breaker: { failureThreshold: r.int('BREAKER_FAILURE_THRESHOLD', 3, 1, 1000), cooldownMs: r.int('BREAKER_COOLDOWN_MS', 5000, 100, 600_000) },
    healthIntervalMs: r.int('HEALTH_INTERVAL_MS', 5000, 100, 600_000),
    preprocess: { poolSize: r.int('PREPROCESS_POOL_SIZE', 32, 0, 10_000), batch: r.int('PREPROCESS_BATCH', 16, 1, 1000) },
    maxInFlight,
    maxInFlightPerPrincipal: r.int('MAX_IN_FLIGHT_PER_PRINCIPAL', Math.max(1, Math.floor(maxInFlight / 4)), 1, maxInFlight),
    auditLogMessage: r.bool('AUDIT_LOG_MESSAGE', false),
    audit: {
      ...(r.optionalString('AUDIT_FILE') ? { file: r.string('AUDIT_FILE') } : {}),
      sync: r.bool('AUDIT_SYNC', false),
      failClosed: r.bool('AUDIT_FAIL_CLOSED', false),
    },
    groupBackend: r.oneOf('GROUP_BACKEND', ['auto', 'native', 'sodium', 'noble'] as const, 'auto'),
    logSync: r.bool('LOG_SYNC', false),
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    shutdownDelayMs: r.int('SHUTDOWN_DELAY_MS', 0, 0, 600_000),
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
  };
  return Object.freeze(config);
}
