/**
 * createRelay(config): the relay service as an object with start/close, so main.ts stays thin and tests
 * can run it in-process (with a clock they move, or a store of their own) or as a real process.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { closeServer, createLogger, createOpsServer, drain, listen, trackInFlight, type InFlight, type Logger } from '@hoarfrost/runtime';
import { RelayApi } from './api.js';
import type { RelayConfig } from './config.js';
import { createRelayHandler } from './http.js';
import { MemoryStore } from './memory-store.js';
import { createRelayMetrics } from './metrics.js';
import { PushHub } from './push.js';
import { ConcurrencyLimiter, RateLimiter } from './rate-limit.js';
import { RedisStore } from './redis-store.js';
import { systemClock, type Clock, type RelayStore } from './store.js';

export interface Relay {
  start(): Promise<void>;
  /** Not ready, answer long polls, close push connections, drain requests (up to the grace), close the store. */
  close(): Promise<void>;
  readonly ready: boolean;
  /** Bound ports (after start). */
  ports(): { api: number; ops: number };
}

export interface RelayOptions {
  logger?: Logger;
  /** Time for expiry and rate limits (memory store); tests move it. */
  clock?: Clock;
  /** A store instead of the one config.store names. */
  store?: RelayStore;
}

/** The store config.store names. */
export function createStore(config: Readonly<RelayConfig>, logger: Logger, clock: Clock = systemClock): RelayStore {
  const { ttl, limits } = config;
  const storeLimits = {
    maxSessionsPerUser: limits.maxSessionsPerUser,
    maxSessions: limits.maxSessions,
    maxSessionQueueBytes: limits.maxSessionQueueBytes,
    maxQueueBytes: limits.maxQueueBytes,
    maxTokensPerUser: limits.maxTokensPerUser,
    maxChallenges: limits.maxChallenges,
  };
  if (config.store.kind === 'memory') return new MemoryStore({ ttl, limits: storeLimits, clock });
  let failing = false;
  return new RedisStore({
    ...(config.store.url ? { url: config.store.url } : { urlFile: config.store.urlFile! }),
    keyPrefix: config.store.keyPrefix,
    connectTimeoutMs: config.store.connectTimeoutMs,
    ttl,
    limits: storeLimits,
    // One line when the connection fails and one when it is back, not one per retry.
    onConnectionEvent: (event, detail) => {
      if (event === 'error' && !failing) logger.error({ err: detail }, 'store connection lost');
      if (event === 'ready' && failing) logger.info('store connection back');
      failing = event === 'error';
    },
  });
}

export function createRelay(config: Readonly<RelayConfig>, options: RelayOptions = {}): Relay {
  const logger = options.logger ?? createLogger('relay', config.logLevel);
  const clock = options.clock ?? systemClock;
  const store = options.store ?? createStore(config, logger, clock);
  let started = false;
  let stopping = false;
  let draining = false;
  const notReadyReason = (): string | undefined => (stopping ? 'shutting down' : !started ? 'starting' : store.notReadyReason());
  const metrics = createRelayMetrics(() => store.stats(), () => notReadyReason() === undefined);
  const ops = createOpsServer({ registry: metrics.registry, notReadyReason });
  let hub: PushHub | undefined;
  const api = new RelayApi({ config, store, metrics, logger, onLogout: (token) => hub?.closeToken(token) });
  const rate = new RateLimiter({ challenge: config.rate.challenge, createSession: config.rate.createSession, other: config.rate.other }, config.rate.maxTrackedAddresses, clock);
  const concurrency = new ConcurrencyLimiter(config.rate.concurrentPerAddress);
  const isDraining = () => draining;
  hub = new PushHub({ config, api, store, metrics, logger, rate, concurrency, isDraining });
  let server: HttpsServer | undefined;
  let inFlight: InFlight | undefined;
  let tlsReload: NodeJS.Timeout | undefined;
  const readTls = () => Promise.all([readFile(config.tls.certFile, 'utf8'), readFile(config.tls.keyFile, 'utf8')]);
  // TLS 1.3 only, no client certificate: callers authenticate with XEdDSA and bearer tokens.
  const tlsOptions = (cert: string, key: string) => ({ cert, key, minVersion: 'TLSv1.3' as const });
  const ports = { api: 0, ops: 0 };

  return {
    get ready() {
      return notReadyReason() === undefined;
    },
    ports: () => ({ ...ports }),

    async start() {
      ports.ops = await listen(ops, config.opsPort, config.opsHost);
      let [cert, key] = await readTls();
      await store.start();
      server = createHttpsServer(
        { ...tlsOptions(cert, key), handshakeTimeout: config.headersTimeoutMs, keepAliveTimeout: config.keepAliveTimeoutMs },
        createRelayHandler({ config, api, metrics, logger, rate, concurrency, isDraining }),
      );
      server.headersTimeout = config.headersTimeoutMs;
      // Counts until the request is received whole: a long poll's wait is not part of it.
      server.requestTimeout = config.headersTimeoutMs + config.bodyTimeoutMs;
      server.maxConnections = config.maxConnections;
      server.on('upgrade', (req, socket, head) => hub!.handleUpgrade(req, socket, head));
      server.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'tls handshake failed'));
      inFlight = trackInFlight(server);
      if (config.tls.reloadMs > 0) {
        // A renewed certificate (cert-manager rewrites the mounted Secret) is served to new connections.
        tlsReload = setInterval(() => {
          readTls().then(
            ([c, k]) => {
              if (c === cert && k === key) return;
              try {
                server!.setSecureContext(tlsOptions(c, k));
              } catch (e) {
                // E.g. a certificate and a key that do not match: keep serving the previous pair.
                logger.warn({ err: (e as Error).message }, 'tls certificate not reloaded');
                return;
              }
              [cert, key] = [c, k];
              logger.info('tls certificate reloaded');
            },
            (e: Error) => logger.warn({ err: e.message }, 'tls certificate not reloaded'),
          );
        }, config.tls.reloadMs);
        tlsReload.unref();
      }
      ports.api = await listen(server, config.port, config.host);
      started = true;
      logger.info({ port: ports.api, opsPort: ports.ops, store: store.kind }, 'relay ready');
    },

    async close() {
      stopping = true;
      clearInterval(tlsReload);
      if (server && inFlight) {
        await drain(server, inFlight, {
          delayMs: config.shutdownDelayMs,
          graceMs: config.shutdownGraceMs,
          onListenerClose: () => {
            draining = true;
            // Long polls answer with what is queued; push clients reconnect to another replica.
            api.wakeAll();
            hub!.closeAll(Math.min(config.shutdownGraceMs, 2000));
          },
        });
      }
      draining = true;
      await store.close();
      await closeServer(ops);
      logger.info('relay stopped');
    },
  };
}
