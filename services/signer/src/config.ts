/**
 * Signer configuration: the only module that reads the environment (SIGNER_* variables). Validated
 * and frozen at start; secrets (key packages, TLS key) are read from files named here, never from env.
 * @module
 */
import { availableParallelism } from 'node:os';
import type { BackendName } from '@hoarfrost/frost';
import { SIGNER_ID_RE as KEYGEN_SIGNER_ID_RE } from '@hoarfrost/rpc';
import { ConfigError, EnvReader, type Env } from '@hoarfrost/runtime';

export interface PolicyConfig {
  /** `raw`: any message up to maxMessageBytes. `jws`: only a JWS signing input (see policy.ts). */
  mode: 'raw' | 'jws';
  maxMessageBytes: number;
  /** Claims a `jws` payload must carry. */
  jwsRequiredClaims: string[];
}

export interface SignerConfig {
  /** This signer's name: the `aud` its RPC tokens must carry, and its log/metrics label. */
  id: string;
  host: string;
  port: number;
  opsHost: string;
  opsPort: number;
  tls: { certFile: string; keyFile: string; clientCaFile: string };
  /** SANs the coordinator's client certificate may carry (`DNS:x` or `URI:x`). */
  allowedClientSans: string[];
  /**
   * Signer-dials mode: the coordinator's signer listener (`https://host:port`), which this signer
   * connects to itself (behind NAT, no inbound connections). Its own TLS certificate is then its
   * client certificate (it needs the client-auth usage), and the coordinator's server certificate
   * must carry one of `allowedClientSans`. The RPC listener keeps serving as well. A host name may
   * stand for several coordinator replicas (a headless Service): the signer keeps a connection to
   * each of its addresses.
   */
  coordinatorUrl: string | undefined;
  /** How often the host name of `coordinatorUrl` is looked up again (replicas come and go). */
  coordinatorResolveIntervalMs: number;
  jwt: {
    issuer: string;
    jwksFile: string;
    clockToleranceSeconds: number;
    /** Bound on the RPC tokens remembered against replay; undefined keeps the verifier's default. */
    maxReplayEntries: number | undefined;
  };
  /**
   * Directory with one subdirectory per key id, each holding key-package.json and public-key-package.json
   * (a dealer's keys). Without a sealed store these are the keys, read-only (at least one); with one,
   * the keys the store lacks are imported into it at start, and the directory may be absent or empty.
   */
  keyDir: string;
  /**
   * The sealed key store: `dir` holds the key packages, each encrypted under the key-encryption key
   * read from `kekFile` (32 bytes: raw, 64 hex characters or base64). Without it, no key generation.
   */
  store?: { dir: string; kekFile: string };
  dkg: {
    /** Signer ids allowed to take part in key generation (each peer's certificate carries DNS:<id>). */
    peers: string[];
    /** CA bundle that issues the peers' certificates (default: the TLS client CA bundle). */
    peerCaFile: string;
    /**
     * How long a key generation session is kept in memory without progress (each step completed
     * starts it again); also the oldest session parameters (by their issued_at) a begin accepts.
     */
    sessionTtlMs: number;
    /** The smallest threshold a key generation may create a key with (at least 2). */
    minThreshold: number;
  };
  maxBodyBytes: number;
  /** Time a client has to send a whole request body (a slow body holds a request slot). */
  bodyTimeoutMs: number;
  nonces: { max: number; ttlMs: number; maxBatch: number };
  /** Round-2 requests one batch RPC may carry (the coordinator coalesces within it). */
  maxRound2Batch: number;
  /** Worker threads for round-2 point work on packages of at least `minParticipants` (0 workers: inline). */
  cryptoWorkers: { count: number; minParticipants: number };
  policy: PolicyConfig;
  /** Group arithmetic backend of the protocol library: `auto` takes the fastest that loads. */
  groupBackend: 'auto' | BackendName;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Write every log record synchronously (durable audit lines) instead of buffered. */
  logSync: boolean;
  /**
   * The hash-chained record of every share this signer computed: into the log (at level info) and,
   * with `file`, that file too. `failClosed`: a share whose record cannot be written is not returned.
   */
  audit: { file?: string; sync: boolean; failClosed: boolean };
  shutdownGraceMs: number;
  /** After SIGTERM, how long RPCs are still served while readiness already fails (endpoints catch up). */
  shutdownDelayMs: number;
  /** Test-only fault injection; refused unless SIGNER_ALLOW_TEST_FAULTS=true. */
  testFault: 'none' | 'corrupt-shares';
}

/**
 * Signer ids a signer without a sealed store may have (dealer keys only). Key generation names each
 * signer by the DNS SAN of its certificate: with a store (key generation possible), the id, and every
 * key-generation peer, must also be a DNS name (KEYGEN_SIGNER_ID_RE: no `_` or `:`).
 */
const SIGNER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function loadConfig(env: Env): Readonly<SignerConfig> {
  const r = new EnvReader(env, 'SIGNER_');
  const policyMax = r.int('POLICY_MAX_MESSAGE_BYTES', 64 * 1024, 1, 16 * 1024 * 1024);
  const testFault = r.oneOf('TEST_FAULT', ['none', 'corrupt-shares'] as const, 'none');
  if (testFault !== 'none' && !r.bool('ALLOW_TEST_FAULTS', false)) {
    throw new ConfigError(`${r.name('TEST_FAULT')} needs ${r.name('ALLOW_TEST_FAULTS')}=true (test deployments only)`);
  }
  const allowedClientSans = r.list('ALLOWED_CLIENT_SANS');
  if (allowedClientSans.length === 0) throw new ConfigError(`${r.name('ALLOWED_CLIENT_SANS')} is required (the coordinator's certificate SANs)`);
  const id = r.string('ID');
  if (!SIGNER_ID_RE.test(id)) throw new ConfigError(`${r.name('ID')} must be 1..128 of [A-Za-z0-9._:-]`);
  if (r.bool('AUDIT_SYNC', false) && !r.optionalString('AUDIT_FILE')) throw new ConfigError(`${r.name('AUDIT_SYNC')} needs ${r.name('AUDIT_FILE')}`);
  const storeDir = r.optionalString('STORE_DIR');
  if (storeDir !== undefined && r.optionalString('KEK_FILE') === undefined) throw new ConfigError(`${r.name('KEK_FILE')} is required with ${r.name('STORE_DIR')} (the sealed store's key-encryption key)`);
  if (storeDir !== undefined && !KEYGEN_SIGNER_ID_RE.test(id)) {
    throw new ConfigError(
      `${r.name('ID')} "${id}" cannot take part in key generation, which ${r.name('STORE_DIR')} enables: the id is its certificate's DNS name there, so only letters, digits, "." and "-" (no "_" or ":")`,
    );
  }
  const dkgPeers = r.list('DKG_PEERS');
  for (const peer of dkgPeers) {
    if (!SIGNER_ID_RE.test(peer)) throw new ConfigError(`${r.name('DKG_PEERS')} must list signer ids (1..128 of [A-Za-z0-9._:-]), got "${peer}"`);
    if (storeDir !== undefined && !KEYGEN_SIGNER_ID_RE.test(peer)) {
      throw new ConfigError(`${r.name('DKG_PEERS')} must list signer ids as their certificates' DNS names (letters, digits, "." and "-"; no "_" or ":"), got "${peer}"`);
    }
  }
  const coordinatorUrl = r.optionalString('COORDINATOR_URL');
  if (coordinatorUrl !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(coordinatorUrl);
    } catch {
      /* reported below */
    }
    if (!u || u.protocol !== 'https:' || u.pathname !== '/' || u.search || u.username) throw new ConfigError(`${r.name('COORDINATOR_URL')} must be a bare https origin (https://host:port)`);
  }
  const config: SignerConfig = {
    id,
    coordinatorUrl,
    coordinatorResolveIntervalMs: r.int('COORDINATOR_RESOLVE_INTERVAL_MS', 10_000, 100, 3_600_000),
    host: r.string('HOST', '0.0.0.0'),
    port: r.port('PORT', 7443),
    opsHost: r.string('OPS_HOST', '0.0.0.0'),
    opsPort: r.port('OPS_PORT', 9090),
    tls: {
      certFile: r.string('TLS_CERT_FILE'),
      keyFile: r.string('TLS_KEY_FILE'),
      clientCaFile: r.string('TLS_CLIENT_CA_FILE'),
    },
    allowedClientSans,
    jwt: {
      issuer: r.string('JWT_ISSUER', 'frost-coordinator'),
      jwksFile: r.string('JWT_JWKS_FILE'),
      clockToleranceSeconds: r.int('JWT_CLOCK_TOLERANCE_SECONDS', 5, 0, 30),
      maxReplayEntries: r.optionalString('REPLAY_CACHE_MAX') === undefined ? undefined : r.int('REPLAY_CACHE_MAX', 0, 100, 10_000_000),
    },
    keyDir: r.string('KEY_DIR', '/etc/frost/keys'),
    ...(storeDir !== undefined ? { store: { dir: storeDir, kekFile: r.string('KEK_FILE') } } : {}),
    dkg: {
      peers: dkgPeers,
      peerCaFile: r.string('DKG_PEER_CA_FILE', r.string('TLS_CLIENT_CA_FILE')),
      sessionTtlMs: r.int('DKG_SESSION_TTL_MS', 120_000, 1000, 3_600_000),
      minThreshold: r.int('DKG_MIN_THRESHOLD', 2, 2, 64),
    },
    maxBodyBytes: r.int('MAX_BODY_BYTES', policyMax + 64 * 1024, 1024, 32 * 1024 * 1024),
    bodyTimeoutMs: r.int('BODY_TIMEOUT_MS', 5000, 100, 60_000),
    nonces: {
      max: r.int('MAX_NONCES', 10_000, 1, 10_000_000),
      ttlMs: r.int('NONCE_TTL_SECONDS', 300, 1, 86_400) * 1000,
      maxBatch: r.int('MAX_COMMITMENT_BATCH', 32, 1, 1000),
    },
    maxRound2Batch: r.int('MAX_ROUND2_BATCH', 256, 1, 1000),
    cryptoWorkers: {
      count: r.int('CRYPTO_WORKERS', Math.min(2, availableParallelism()), 0, 64),
      minParticipants: r.int('WORKER_MIN_PARTICIPANTS', 5, 1, 65535),
    },
    policy: {
      mode: r.oneOf('POLICY_MODE', ['raw', 'jws'] as const, 'raw'),
      maxMessageBytes: policyMax,
      jwsRequiredClaims: r.list('POLICY_JWS_REQUIRED_CLAIMS'),
    },
    groupBackend: r.oneOf('GROUP_BACKEND', ['auto', 'native', 'sodium', 'noble'] as const, 'auto'),
    logSync: r.bool('LOG_SYNC', false),
    audit: {
      ...(r.optionalString('AUDIT_FILE') ? { file: r.string('AUDIT_FILE') } : {}),
      sync: r.bool('AUDIT_SYNC', false),
      failClosed: r.bool('AUDIT_FAIL_CLOSED', false),
    },
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    // Long enough for a load balancer to see readiness fail before the listener closes.
    shutdownDelayMs: r.int('SHUTDOWN_DELAY_MS', 2000, 0, 600_000),
    testFault,
  };
  if (config.nonces.maxBatch > config.nonces.max) {
    // A round-1 batch larger than the store would evict its own first commitments before answering.
    throw new ConfigError(`${r.name('MAX_COMMITMENT_BATCH')} must not exceed ${r.name('MAX_NONCES')}`);
  }
  return Object.freeze(config);
}
