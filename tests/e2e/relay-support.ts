// Shared by the relay suites: a dev CA and the relay's leaf certificate, relays started in this process
// over real TLS (with a clock the tests move, or against a real Redis-protocol server), clients with
// fresh identities, and the Redis-protocol server itself (skipped loudly locally, required in CI).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createLogger } from '@hoarfrost/runtime';
import { createRelay, loadConfig, type Clock, type Relay, type RelayConfig } from '@hoarfrost/relay';
import { RelayClient, newIdentity } from '@hoarfrost/relay/client';
import { createCertificateAuthority, findRedisServer, issueRelayCertificate, startRedisServer, type RedisServer, type RelayTls } from '@hoarfrost/testkit';

/** A clock the tests move by hand. */
export class ManualClock implements Clock {
  #now = Date.now();
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

let tlsOnce: Promise<RelayTls & { caPem: string }> | undefined;
/** One dev CA and relay certificate per test file. */
export function relayTls(): Promise<RelayTls & { caPem: string }> {
  tlsOnce ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'frost-relay-e2e-'));
    const ca = await createCertificateAuthority('relay test CA');
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    return { ...(await issueRelayCertificate(ca, dir, join(dir, 'ca.pem'))), caPem: ca.certPem };
  })();
  return tlsOnce;
}

/** Limits loose enough for a suite that logs in a great deal from one address. */
export const RELAXED_RATES: Record<string, string> = {
  RELAY_RATE_CHALLENGE_PER_MINUTE: '100000',
  RELAY_RATE_CHALLENGE_BURST: '100000',
  RELAY_RATE_CREATE_SESSION_PER_MINUTE: '100000',
  RELAY_RATE_CREATE_SESSION_BURST: '100000',
  RELAY_RATE_OTHER_PER_MINUTE: '1000000',
  RELAY_RATE_OTHER_BURST: '100000',
  RELAY_CONCURRENT_PER_ADDRESS: '1000',
};

export async function relayConfig(env: Record<string, string>): Promise<Readonly<RelayConfig>> {
  const tls = await relayTls();
  return loadConfig({
    RELAY_HOST: '127.0.0.1',
    RELAY_PORT: '0',
    RELAY_OPS_HOST: '127.0.0.1',
    RELAY_OPS_PORT: '0',
    RELAY_TLS_CERT_FILE: tls.certFile,
    RELAY_TLS_KEY_FILE: tls.keyFile,
    RELAY_LOG_LEVEL: 'silent',
    RELAY_SHUTDOWN_GRACE_MS: '2000',
    ...env,
  });
}

export interface StartedRelay {
  relay: Relay;
  url: string;
  opsUrl: string;
  config: Readonly<RelayConfig>;
}

export async function startInProcess(env: Record<string, string>, clock?: Clock): Promise<StartedRelay> {
  const config = await relayConfig(env);
  const relay = createRelay(config, { logger: createLogger('relay-test', 'silent'), ...(clock ? { clock } : {}) });
  await relay.start();
  const { api, ops } = relay.ports();
  return { relay, url: `https://127.0.0.1:${api}`, opsUrl: `http://127.0.0.1:${ops}`, config };
}

/** A client with a fresh X25519 identity, trusting the test CA. */
export async function newClient(url: string): Promise<RelayClient> {
  return new RelayClient({ url, ca: (await relayTls()).caPem, identity: newIdentity(), timeoutMs: 15_000 });
}

/** A random key that no client holds. */
export const strangerKey = (): string => randomBytes(32).toString('hex');

let redisOnce: Promise<RedisServer | undefined> | undefined;
/**
 * The Redis-protocol server for the replicated suites: started once per test file. Missing binary: in
 * CI (CI=true) a failure, locally a loud skip.
 */
export function redisServer(): Promise<RedisServer | undefined> {
  redisOnce ??= (async () => {
    const bin = findRedisServer();
    if (!bin) {
      if (process.env.CI === 'true') throw new Error('valkey-server or redis-server is required in CI (scripts/install-tools.sh unpacks one without root, or set REDIS_SERVER_BIN)');
      console.warn('\n!!! neither valkey-server nor redis-server found: the Redis-protocol relay suites are SKIPPED (install one, run scripts/install-tools.sh, or set REDIS_SERVER_BIN) !!!\n');
      return undefined;
    }
    return startRedisServer(bin);
  })();
  return redisOnce;
}

/** A key prefix of its own for each relay group sharing the server. */
export const redisPrefix = (): string => `t${randomBytes(4).toString('hex')}:`;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
