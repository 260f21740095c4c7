/**
 * createSigner(config): the signer service as an object with start/close, so main.ts stays thin and
 * tests can run it in-process or as a real process.
 * @module
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { setGroupBackend } from '@hoarfrost/frost';
import { RpcTokenVerifier, parseJwks } from '@hoarfrost/rpc';
import { closeServer, createLogger, createOpsServer, drain, listen, mtlsServerOptions, openServiceAuditTrail, sanMatches, subjectAltNames, trackInFlight, type AuditTrail, type InFlight, type Logger } from '@hoarfrost/runtime';
import { createSignerApp, type SignerApp } from './app.js';
import type { SignerConfig } from './config.js';
import { KeyLoadError } from './key-store.js';
import { KeyVault } from './key-vault.js';
import { createSignerMetrics } from './metrics.js';
import { NonceStore } from './nonce-store.js';
import { createPolicy } from './policy.js';
import { CryptoPool } from './crypto-pool.js';
import { KeygenParticipant } from './keygen.js';
import { Kek, SealedKeyError } from './sealed-store.js';

export interface Signer {
  /**
   * Starts the ops listener, loads the keys, then serves RPCs. Keys that cannot be loaded (a wrong
   * KEK, a damaged sealed file, an import conflict) do not reject: the signer stays up and not ready,
   * with the reason on /readyz, and serves no RPC. Other start failures (TLS files, ports) reject.
   */
  start(): Promise<void>;
  /** Not ready, stop accepting, drain in-flight RPCs (up to the grace period), forget nonces. */
  close(): Promise<void>;
  readonly ready: boolean;
  /** Bound ports (after start). */
  ports(): { rpc: number; ops: number };
  /** The keys, once loaded at start (undefined before, or when they could not be loaded). */
  readonly vault: KeyVault | undefined;
}

/**
 * Opens the signer's keys: the sealed store (with the dealer's keys it lacks imported), or without
 * one the dealer's key directory, read-only.
 */
export async function openKeyVault(config: Readonly<SignerConfig>, logger: Logger): Promise<KeyVault> {
  if (!config.store) return KeyVault.openReadOnly(config.keyDir, { logger });
  const kek = await Kek.fromFile(config.store.kekFile);
  return KeyVault.open({ dir: config.store.dir, kek, signerId: config.id, importDir: config.keyDir, logger });
}


export function createSigner(config: Readonly<SignerConfig>, options: { logger?: Logger } = {}): Signer {
  const logger = options.logger ?? createLogger(`signer:${config.id}`, config.logLevel);
  const nonces = new NonceStore({ max: config.nonces.max, ttlMs: config.nonces.ttlMs });
  const metrics = createSignerMetrics(() => nonces.size, () => ready, () => vault?.keys.size ?? 0);
  nonces.onDrop = (reason) => metrics.noncesDropped.inc({ reason });
  let ready = false;
  let draining = false;
  let notReadyReason = 'starting: keys not loaded';
  let vault: KeyVault | undefined;
  let rpcServer: HttpsServer | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let cryptoPool: CryptoPool | undefined;
  let keygen: KeygenParticipant | undefined;
  let audit: AuditTrail | undefined;
  const ops = createOpsServer({ registry: metrics.registry, notReadyReason: () => (!ready ? notReadyReason : config.audit.failClosed && audit?.failure ? `audit trail failed: ${audit.failure.message}` : undefined) });
  const ports = { rpc: 0, ops: 0 };
  let inFlight: InFlight | undefined;
  let app: SignerApp | undefined;

  return {
    get ready() {
      return ready;
    },
    ports: () => ({ ...ports }),
    get vault() {
      return vault;
    },

    async start() {
      if (config.groupBackend !== 'auto') setGroupBackend(config.groupBackend);
      ports.ops = await listen(ops, config.opsPort, config.opsHost);
      const [jwksText, cert, key, ca] = await Promise.all([
        readFile(config.jwt.jwksFile, 'utf8'),
        readFile(config.tls.certFile, 'utf8'),
        readFile(config.tls.keyFile, 'utf8'),
        readFile(config.tls.clientCaFile, 'utf8'),
      ]);
      const verifier = new RpcTokenVerifier({
        jwks: parseJwks(jwksText),
        issuer: config.jwt.issuer,
        audience: config.id,
        clockToleranceSeconds: config.jwt.clockToleranceSeconds,
        maxReplayEntries: config.jwt.maxReplayEntries,
      });
      try {
        vault = await openKeyVault(config, logger);
      } catch (e) {
        if (!(e instanceof KeyLoadError)) throw e;
        // The process stays up, not ready, with the reason on /readyz, in the log and in a metric:
        // a restart would fail the same way, and a crash loop hides why. No RPC is served.
        const reason = e instanceof SealedKeyError ? e.reason : 'dealer_keys';
        notReadyReason = `keys not loaded: ${e.message}`;
        metrics.keyLoadFailed.set({ reason }, 1);
        logger.error({ reason, err: e.message, hint: 'the signer stays up and not ready until restarted with the cause fixed' }, 'keys not loaded');
        return;
      }
      const keys = vault.keys;
      if (config.store) logger.info({ storeDir: config.store.dir, kekFingerprint: vault.kekFingerprint, imported: vault.imported }, 'sealed key store opened');
      else logger.info({ keyDir: config.keyDir }, 'no sealed key store (SIGNER_STORE_DIR): dealer keys read-only, key generation unavailable');
      for (const k of keys.values()) {
        logger.info(
          { keyId: k.keyId, state: k.state ?? 'active', version: k.version, identifier: k.keyPackage.identifier.toString(), threshold: `${k.publicKeyPackage.minSigners}-of-${k.publicKeyPackage.maxSigners}` },
          'key loaded',
        );
      }
      if (config.testFault !== 'none') logger.warn({ testFault: config.testFault }, 'TEST FAULT INJECTION ENABLED: this signer misbehaves on purpose');
      audit = await openServiceAuditTrail(config.audit, logger, 'SIGNER_');
      cryptoPool = config.cryptoWorkers.count > 0 ? new CryptoPool(config.cryptoWorkers.count, config.cryptoWorkers.minParticipants) : undefined;
      // Key generation needs somewhere durable to put what it makes: only with a sealed store.
      if (!vault.readOnly) {
        const peerCa = config.dkg.peerCaFile === config.tls.clientCaFile ? ca : await readFile(config.dkg.peerCaFile, 'utf8');
        keygen = new KeygenParticipant({
          signerId: config.id,
          certDer: new Uint8Array(new X509Certificate(cert).raw),
          keyPem: key,
          peerCaPems: splitPemCertificates(peerCa),
          allowedPeers: config.dkg.peers,
          store: vault,
          // Survives a restart: a session begun before it is not begun again.
          begunSessions: vault.begunSessions(),
          sessionTtlMs: config.dkg.sessionTtlMs,
          minThreshold: config.dkg.minThreshold,
          logger,
        });
      }
      app = createSignerApp({
        config,
        // Live: the vault updates it as keys are made, activated and retired.
        keys,
        // Drawn at each start: the nonces (and so every commitment handed out) do not outlive a start.
        instanceId: new Uint8Array(randomBytes(16)),
        nonces,
        verifier,
        policy: createPolicy(config.policy),
        metrics,
        logger,
        isDraining: () => draining,
        ...(keygen ? { keygen } : {}),
        ...(audit ? { audit } : {}),
        ...(cryptoPool ? { cryptoPool } : {}),
      });
      rpcServer = createHttpsServer({ ...mtlsServerOptions({ certPem: cert, keyPem: key, caPem: ca }), keepAliveTimeout: 65_000 });
      app.attach(rpcServer);
      rpcServer.headersTimeout = 10_000;
      rpcServer.requestTimeout = 30_000;
      inFlight = trackInFlight(rpcServer);
      rpcServer.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'tls handshake failed'));
      ports.rpc = await listen(rpcServer, config.port, config.host);
      if (config.coordinatorUrl) {
        // Signer-dials mode: the same RPCs, on connections this signer opens to its coordinator, one to
        // each replica its name resolves to (each replica sends RPCs only on connections it holds).
        const allowed = config.allowedClientSans;
        const coordinator = config.coordinatorUrl;
        app.channels.dial({
          url: coordinator,
          caPem: ca,
          certPem: cert,
          keyPem: key,
          connectTimeoutMs: 5000,
          resolveIntervalMs: config.coordinatorResolveIntervalMs,
          checkServerIdentity: (_host, peer) =>
            allowed.some((id) => sanMatches(subjectAltNames(peer.subjectaltname), id)) ? undefined : new Error('the coordinator certificate carries none of SIGNER_ALLOWED_CLIENT_SANS'),
          onStateChange: (connected, address, reason) =>
            logger.info({ coordinator, address, ...(reason ? { reason } : {}) }, connected ? 'connected to the coordinator' : 'coordinator connection lost'),
          onResolve: (event) =>
            'error' in event
              ? logger.warn({ coordinator, err: event.error }, 'coordinator lookup failed; the connections known are kept')
              : logger.info({ coordinator, added: event.added, removed: event.removed }, 'coordinator addresses changed'),
        });
      }
      sweeper = setInterval(() => nonces.sweep(), 1000);
      sweeper.unref();
      ready = true;
      logger.info({ rpcPort: ports.rpc, opsPort: ports.ops, policy: config.policy.mode }, 'signer ready');
    },

    async close() {
      // Not ready at once; RPCs are still served until the listener closes (after the delay, the
      // time endpoints take to follow readiness), then refused as SHUTTING_DOWN.
      ready = false;
      notReadyReason = 'shutting down';
      if (rpcServer && inFlight) {
        // Channels are served on until the listener closes, like kept-alive connections; then each
        // closes once its requests are answered (the listener's close waits for them).
        let channelsClosed: Promise<void> | undefined;
        await drain(rpcServer, inFlight, {
          delayMs: config.shutdownDelayMs,
          graceMs: config.shutdownGraceMs,
          onListenerClose: () => {
            draining = true;
            channelsClosed = app?.channels.close(config.shutdownGraceMs);
          },
        });
        await channelsClosed;
      }
      draining = true;
      if (sweeper) clearInterval(sweeper);
      nonces.clear();
      keygen?.close();
      await cryptoPool?.close();
      await audit?.close();
      await closeServer(ops);
      logger.info('signer stopped');
    },
  };
}

/** The certificates of a PEM bundle, one PEM text each. */
function splitPemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
