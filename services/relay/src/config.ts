/**
 * Relay configuration: the only module that reads the environment (RELAY_* variables). Validated and
 * frozen at start. The TLS key is a file named here, never a variable; the store's address may carry a
 * password (redis://:password@host), so it is never logged.
 * @module
 */
import { ConfigError, EnvReader, type Env } from '@hoarfrost/runtime';

/** Requests per minute and burst of one rate-limit class (per client address). */
export interface RateClass {
  perMinute: number;
  burst: number;
}

export interface RelayConfig {
  host: string;
  /** frostd's port by default. */
  port: number;
  opsHost: string;
  opsPort: number;
  /** The certificate files are read again every `reloadMs` (0: never), so a renewed certificate is served without a restart. */
  tls: { certFile: string; keyFile: string; reloadMs: number };
  /** With Redis, the address is `url`, or read at start from `urlFile` (a mounted Secret: it may hold a password). */
  store: { kind: 'memory' } | { kind: 'redis'; url?: string; urlFile?: string; keyPrefix: string; connectTimeoutMs: number };
  /** Lifetimes (frostd's: challenges 10 s, tokens 1 h, sessions 24 h idle). */
  ttl: { challengeMs: number; tokenMs: number; sessionIdleMs: number; closedGraceMs: number };
  limits: {
    /** Largest `msg` of /send, in bytes (frostd: 65,535). */
    maxMessageBytes: number;
    /** Largest request body; by default what a largest message to every member of a largest session needs. */
    maxBodyBytes: number;
    maxSessionMembers: number;
    /** Open sessions one key may coordinate at a time. */
    maxSessionsPerUser: number;
    /** Open sessions on the relay (with Redis: counted across the replicas). */
    maxSessions: number;
    /** Bytes waiting in one session's queues. */
    maxSessionQueueBytes: number;
    /** Bytes waiting in all queues (memory store; with Redis the server's maxmemory bounds the total). */
    maxQueueBytes: number;
    /** Access tokens one key may hold at a time; a further login retires its oldest. */
    maxTokensPerUser: number;
    /** Challenges handed out and not yet used or expired. */
    maxChallenges: number;
    /** Longest `wait_ms` of a long-polling /receive (keep it below a proxy's read timeout in front). */
    maxWaitMs: number;
  };
  rate: {
    challenge: RateClass;
    createSession: RateClass;
    other: RateClass;
    /** Requests (and push connections) one address may have in progress at a time. */
    concurrentPerAddress: number;
    /** Client addresses tracked at a time (beyond it the least recently seen is forgotten). */
    maxTrackedAddresses: number;
  };
  /** Peers (e.g. an ingress controller) whose X-Forwarded-For names the client; empty: the TCP peer is the client. */
  trustedProxies: string[];
  /** TLS connections open at a time. */
  maxConnections: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  keepAliveTimeoutMs: number;
  push: { maxBufferedBytes: number; heartbeatMs: number; tokenCheckMs: number };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logSync: boolean;
  shutdownDelayMs: number;
  shutdownGraceMs: number;
}

const FROSTD_MAX_MSG = 65_535;
/** The address of a Redis-protocol server. */
export const REDIS_URL_RE = /^rediss?:\/\/\S+$/;

export function loadConfig(env: Env): Readonly<RelayConfig> {
  const r = new EnvReader(env, 'RELAY_');
  const kind = r.oneOf('STORE', ['memory', 'redis'] as const, 'memory');
  const redisUrl = r.optionalString('REDIS_URL');
  const redisUrlFile = r.optionalString('REDIS_URL_FILE');
  if (kind === 'redis' && !redisUrl === !redisUrlFile) {
    throw new ConfigError(`${r.name('STORE')}=redis needs one of ${r.name('REDIS_URL')} (redis://host:6379 or rediss://...) and ${r.name('REDIS_URL_FILE')} (a file holding it)`);
  }
  if (redisUrl && !REDIS_URL_RE.test(redisUrl)) throw new ConfigError(`${r.name('REDIS_URL')} must be a redis:// or rediss:// URL`);
  const keyPrefix = r.string('REDIS_KEY_PREFIX', 'frost-relay:');
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(keyPrefix)) throw new ConfigError(`${r.name('REDIS_KEY_PREFIX')} must be 1..64 of [A-Za-z0-9:_.-]`);
  const maxMessageBytes = r.int('MAX_MESSAGE_BYTES', FROSTD_MAX_MSG, 1, 1024 * 1024);
  const maxSessionMembers = r.int('MAX_SESSION_MEMBERS', 256, 1, 4096);
  // A /send body: the message in hex, every member as a recipient (66 characters and punctuation each), the rest.
  const neededBody = 2 * maxMessageBytes + maxSessionMembers * 70 + 4096;
  const maxBodyBytes = r.int('MAX_BODY_BYTES', neededBody, 1024, 64 * 1024 * 1024);
  if (maxBodyBytes < 2 * maxMessageBytes + 1024) {
    throw new ConfigError(`${r.name('MAX_BODY_BYTES')} (${maxBodyBytes}) must be at least ${2 * maxMessageBytes + 1024}: a /send body carries the message in hex (${r.name('MAX_MESSAGE_BYTES')} ${maxMessageBytes})`);
  }
  const maxSessionQueueBytes = r.int('MAX_SESSION_QUEUE_BYTES', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
  if (maxSessionQueueBytes < maxMessageBytes) throw new ConfigError(`${r.name('MAX_SESSION_QUEUE_BYTES')} must be at least ${r.name('MAX_MESSAGE_BYTES')}`);
  const maxQueueBytes = r.int('MAX_QUEUE_BYTES', 512 * 1024 * 1024, 1024, 64 * 1024 * 1024 * 1024);
  if (maxQueueBytes < maxSessionQueueBytes) throw new ConfigError(`${r.name('MAX_QUEUE_BYTES')} must be at least ${r.name('MAX_SESSION_QUEUE_BYTES')}`);
  const rateClass = (name: string, perMinute: number, burst: number): RateClass => ({
    perMinute: r.int(`RATE_${name}_PER_MINUTE`, perMinute, 1, 1_000_000),
    burst: r.int(`RATE_${name}_BURST`, burst, 1, 1_000_000),
  });
  const trustedProxies = r.list('TRUSTED_PROXIES');
  for (const p of trustedProxies) if (!/^[0-9a-fA-F:.]+$/.test(p)) throw new ConfigError(`${r.name('TRUSTED_PROXIES')}: "${p}" is not an IP address`);
  const config: RelayConfig = {
    host: r.string('HOST', '0.0.0.0'),
    port: r.port('PORT', 2744),
    opsHost: r.string('OPS_HOST', '0.0.0.0'),
    opsPort: r.port('OPS_PORT', 9090),
    tls: { certFile: r.string('TLS_CERT_FILE'), keyFile: r.string('TLS_KEY_FILE'), reloadMs: r.int('TLS_RELOAD_SECONDS', 300, 0, 86_400) * 1000 },
    store:
      kind === 'redis'
        ? { kind, ...(redisUrl ? { url: redisUrl } : { urlFile: redisUrlFile! }), keyPrefix, connectTimeoutMs: r.int('REDIS_CONNECT_TIMEOUT_MS', 5000, 100, 60_000) }
        : { kind },
    ttl: {
      challengeMs: r.int('CHALLENGE_TTL_SECONDS', 10, 1, 600) * 1000,
      tokenMs: r.int('TOKEN_TTL_SECONDS', 3600, 10, 7 * 86_400) * 1000,
      sessionIdleMs: r.int('SESSION_IDLE_SECONDS', 86_400, 1, 30 * 86_400) * 1000,
      closedGraceMs: r.int('CLOSED_SESSION_GRACE_SECONDS', 30, 0, 3600) * 1000,
    },
    limits: {
      maxMessageBytes,
      maxBodyBytes,
      maxSessionMembers,
      maxSessionsPerUser: r.int('MAX_SESSIONS_PER_USER', 32, 1, 100_000),
      maxSessions: r.int('MAX_SESSIONS', 100_000, 1, 10_000_000),
      maxSessionQueueBytes,
      maxQueueBytes,
      maxTokensPerUser: r.int('MAX_TOKENS_PER_USER', 16, 1, 10_000),
      maxChallenges: r.int('MAX_CHALLENGES', 100_000, 1, 10_000_000),
      maxWaitMs: r.int('MAX_WAIT_MS', 30_000, 0, 300_000),
    },
    rate: {
      // ZF's nginx example for frostd: challenge 30/min, session creation 10/min, the rest 240/min.
      challenge: rateClass('CHALLENGE', 30, 10),
      createSession: rateClass('CREATE_SESSION', 10, 5),
      other: rateClass('OTHER', 240, 60),
      concurrentPerAddress: r.int('CONCURRENT_PER_ADDRESS', 10, 1, 100_000),
      maxTrackedAddresses: r.int('MAX_TRACKED_ADDRESSES', 100_000, 100, 10_000_000),
    },
    trustedProxies,
    maxConnections: r.int('MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    headersTimeoutMs: r.int('HEADERS_TIMEOUT_MS', 5000, 100, 60_000),
    bodyTimeoutMs: r.int('BODY_TIMEOUT_MS', 5000, 100, 60_000),
    keepAliveTimeoutMs: r.int('KEEP_ALIVE_TIMEOUT_MS', 65_000, 1000, 600_000),
    push: {
      maxBufferedBytes: r.int('PUSH_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
      heartbeatMs: r.int('PUSH_HEARTBEAT_MS', 30_000, 1000, 600_000),
      tokenCheckMs: r.int('PUSH_TOKEN_CHECK_MS', 30_000, 100, 3_600_000),
    },
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    logSync: r.bool('LOG_SYNC', false),
    shutdownDelayMs: r.int('SHUTDOWN_DELAY_MS', 0, 0, 600_000),
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
  };
  return Object.freeze(config);
}
