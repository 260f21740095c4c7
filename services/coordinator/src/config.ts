/**
 * Coordinator configuration: the only module that reads the environment (COORDINATOR_* variables).
 * Validated and frozen at start. Secrets (TLS keys, JWT key) are files named here.
 * @module
 */
import { KEY_ID_RE } from '@hoarfrost/rpc';
import { Identifier, type BackendName } from '@hoarfrost/frost';
import { ConfigError, EnvReader, type Env } from '@hoarfrost/runtime';

export interface SignerEntry {
  /** Signer name: its certificate's DNS SAN (pinned) and the `aud` of tokens sent to it. */
  id: string;
  /** Its https origin; `inbound://<id>` for a signer that dials the coordinator ({@link SignerEntry.inbound}). */
  url: string;
  /**
   * The signer connects to the coordinator's signer listener itself (`id=inbound` in
   * COORDINATOR_SIGNERS): a signer behind NAT. Its channel is the only way to it.
   */
  inbound?: boolean;
  /**
   * The participant it must answer as (its identifier in 64 hex characters), from
   * `COORDINATOR_SIGNER_PARTICIPANTS`. Unpinned, the first signer to claim a participant keeps it, so
   * a signer answering with another's identifier can lock that one out.
   */
  participant?: string;
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
  /**
   * The admin API (key generation, refresh, retirement): client-certificate SANs allowed on it, a
   * list apart from the /sign callers' (empty: admin API off); the time one key-generation step
   * may take across its participants.
   */
  admin: { allowedClientSans: string[]; keygenStepTimeoutMs: number };
  signerTls: { certFile: string; keyFile: string; caFile: string };
  rpcJwt: { keyFile: string; kid: string; issuer: string; lifetimeSeconds: number };
  signers: SignerEntry[];
  /**
   * Pins the default key's public key package (frost-rs JSON): a signer reporting another package for
   * it is not used for it. Unset: every key, the default one too, is learnt from the signers.
   */
  publicKeyPackageFile?: string;
  /** The key /sign, /v1/sign/batch and /v1/jws use when a request names none. */
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
  /**
   * How RPCs reach the signers: `auto` uses each signer's channel (one multiplexed WebSocket over the
   * same mutual TLS) when it offers one, else HTTP/1.1; `channel` and `http1` use only that.
   */
  signerTransport: 'auto' | 'channel' | 'http1';
  /** RPCs of one kind on their way to one signer before further calls are coalesced into one. */
  signerMaxInFlight: number;
  /** Round-2 requests one coalesced RPC carries at most (the signer's own limit applies too). */
  signerMaxBatch: number;
  /**
   * The listener that signers dialling in (`id=inbound` in COORDINATOR_SIGNERS) connect to: mutual
   * TLS with the API certificate, the signers' certificates checked against the signer CA and pinned
   * to their ids. Undefined: no signer dials in.
   */
  signerListen: { host: string; port: number } | undefined;
  /** Messages one POST /v1/sign/batch may carry. */
  maxBatchItems: number;
  /** Body limit of POST /v1/sign/batch. */
  maxBatchBodyBytes: number;
  breaker: { failureThreshold: number; cooldownMs: number };
  healthIntervalMs: number;
  /**
   * Preprocessing: commitments fetched ahead per key and signer (0 disables), the batch size of a
   * refill, and the most keys preprocessed at once (the default key first, then by key id).
   */
  preprocess: { poolSize: number; batch: number; maxKeys: number };
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
  if (list.length === 0) throw new ConfigError(`${name} is required: comma-separated id=https://host:port (or id=inbound)`);
  const out = list.map((item): SignerEntry => {
    const inbound = /^([A-Za-z0-9][A-Za-z0-9.-]{0,252})=inbound$/.exec(item);
    if (inbound) return { id: inbound[1]!, url: `inbound://${inbound[1]!}`, inbound: true };
    const m = /^([A-Za-z0-9][A-Za-z0-9.-]{0,252})=(https:\/\/.+)$/.exec(item);
    if (!m) throw new ConfigError(`${name}: "${item}" is not id=https://host:port or id=inbound`);
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

/** Applies `id=participant,...` to the registry: each id must be a configured signer, each participant named once. */
function pinParticipants(signers: SignerEntry[], list: string[], name: string): SignerEntry[] {
  const seen = new Set<string>();
  for (const item of list) {
    const m = /^([A-Za-z0-9][A-Za-z0-9.-]{0,252})=([1-9][0-9]{0,4}|[0-9a-f]{64})$/.exec(item);
    if (!m) throw new ConfigError(`${name}: "${item}" is not id=<participant number or 64 hex characters>`);
    const entry = signers.find((s) => s.id === m[1]);
    if (!entry) throw new ConfigError(`${name}: "${m[1]}" is not a signer of COORDINATOR_SIGNERS`);
    if (entry.participant !== undefined) throw new ConfigError(`${name}: "${m[1]}" is pinned twice`);
    let value: string;
    try {
      value = (m[2]!.length === 64 ? Identifier.fromHex(m[2]!) : Identifier.fromNumber(Number(m[2]))).toHex();
    } catch {
      throw new ConfigError(`${name}: "${m[2]}" is not a participant identifier`);
    }
    if (seen.has(value)) throw new ConfigError(`${name}: participant ${m[2]} is pinned to two signers`);
    seen.add(value);
    entry.participant = value;
  }
  return signers;
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
  const maxBatchItems = r.int('MAX_BATCH_ITEMS', 64, 1, 1000);
  const signers = parseSigners(r.list('SIGNERS'), r.name('SIGNERS'));
  const signerListen =
    r.optionalString('SIGNER_LISTEN_PORT') === undefined ? undefined : { host: r.string('SIGNER_LISTEN_HOST', '0.0.0.0'), port: r.port('SIGNER_LISTEN_PORT', 7444) };
  if (signers.some((s) => s.inbound) && !signerListen) throw new ConfigError(`${r.name('SIGNERS')} names signers that dial in (id=inbound): ${r.name('SIGNER_LISTEN_PORT')} is required`);
  const keyId = r.string('KEY_ID', 'default');
  if (!KEY_ID_RE.test(keyId)) throw new ConfigError(`${r.name('KEY_ID')} must match ${KEY_ID_RE.source}`);
  const signerTimeoutMs = r.int('SIGNER_TIMEOUT_MS', 2000, 50, 60_000);
  const signDeadlineMs = r.int('SIGN_DEADLINE_MS', 5000, 100, 120_000);
  if (signerTimeoutMs > signDeadlineMs) throw new ConfigError(`${r.name('SIGNER_TIMEOUT_MS')} must not exceed ${r.name('SIGN_DEADLINE_MS')}`);
  if (r.bool('AUDIT_SYNC', false) && !r.optionalString('AUDIT_FILE')) throw new ConfigError(`${r.name('AUDIT_SYNC')} needs ${r.name('AUDIT_FILE')}`);
  const adminSans = r.list('ADMIN_CLIENT_SANS');
  if (adminSans.length > 0 && mode === 'jwt') throw new ConfigError(`${r.name('ADMIN_CLIENT_SANS')} needs client certificates: not with ${r.name('AUTH_MODE')}=jwt`);
  // Compared as certificate checks read them: a bare name is a DNS name (runtime sanMatches).
  const asSan = (s: string) => (/^(DNS|URI|IP Address):/.test(s) ? s : `DNS:${s}`);
  const callerSans = new Set(allowedClientSans.map(asSan));
  const shared = adminSans.filter((s) => callerSans.has(asSan(s)));
  if (shared.length > 0) throw new ConfigError(`${r.name('ADMIN_CLIENT_SANS')} and ${r.name('ALLOWED_CLIENT_SANS')} must be disjoint (an operator does not sign, a caller does not manage keys): ${shared.join(', ')}`);
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
    admin: { allowedClientSans: adminSans, keygenStepTimeoutMs: r.int('KEYGEN_STEP_TIMEOUT_MS', 30_000, 1000, 600_000) },
    signerTls: { certFile: r.string('SIGNER_CLIENT_CERT_FILE'), keyFile: r.string('SIGNER_CLIENT_KEY_FILE'), caFile: r.string('SIGNER_CA_FILE') },
    rpcJwt: {
      keyFile: r.string('RPC_JWT_KEY_FILE'),
      kid: r.string('RPC_JWT_KID'),
      issuer: r.string('RPC_JWT_ISSUER', 'frost-coordinator'),
      lifetimeSeconds: r.int('RPC_JWT_LIFETIME_SECONDS', 30, 1, 60),
    },
    signers: pinParticipants(signers, r.list('SIGNER_PARTICIPANTS'), r.name('SIGNER_PARTICIPANTS')),
    ...(r.optionalString('PUBLIC_KEY_PACKAGE_FILE') ? { publicKeyPackageFile: r.string('PUBLIC_KEY_PACKAGE_FILE') } : {}),
    keyId,
    maxBodyBytes,
    bodyTimeoutMs: r.int('BODY_TIMEOUT_MS', 5000, 100, 60_000),
    maxMessageBytes,
    signDeadlineMs,
    signerTimeoutMs,
    signerTransport: r.oneOf('SIGNER_TRANSPORT', ['auto', 'channel', 'http1'] as const, 'auto'),
    signerMaxInFlight: r.int('SIGNER_MAX_IN_FLIGHT', 2, 1, 64),
    signerMaxBatch: r.int('SIGNER_MAX_BATCH', 64, 1, 1000),
    maxBatchItems,
    signerListen,
    maxBatchBodyBytes: r.int('MAX_BATCH_BODY_BYTES', Math.max(maxBodyBytes, 1024 * 1024), 1024, 256 * 1024 * 1024),
    breaker: { failureThreshold: r.int('BREAKER_FAILURE_THRESHOLD', 3, 1, 1000), cooldownMs: r.int('BREAKER_COOLDOWN_MS', 5000, 100, 600_000) },
    healthIntervalMs: r.int('HEALTH_INTERVAL_MS', 5000, 100, 600_000),
    preprocess: { poolSize: r.int('PREPROCESS_POOL_SIZE', 32, 0, 10_000), batch: r.int('PREPROCESS_BATCH', 16, 1, 1000), maxKeys: r.int('PREPROCESS_MAX_KEYS', 8, 1, 1000) },
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
    // Long enough for a load balancer to see readiness fail before the listener closes.
    shutdownDelayMs: r.int('SHUTDOWN_DELAY_MS', 2000, 0, 600_000),
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
  };
  return Object.freeze(config);
}
