/**
 * createCoordinator(config): the coordinator service as an object with start/close.
 * Stateless: the only state is connection pools, circuit breakers, health marks and the keys learnt
 * from the signers at each health check.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { publicKeyPackageFromJson, setGroupBackend, type PublicKeyPackage } from '@hoarfrost/frost';
import { DEFAULT_MAX_RESPONSE_BYTES, RpcTokenSigner, SignerClient, loadEd25519PrivateKey, parseJwks } from '@hoarfrost/rpc';
import type { Server as HttpServer } from 'node:http';
import { createSignerListener } from './signer-listener.js';
import { X509Certificate } from 'node:crypto';
import { ConfigError, closeServer, createLogger, openServiceAuditTrail, createOpsServer, drain, listen, mtlsServerOptions, sanMatches, subjectAltNames, trackInFlight, type AuditTrail, type InFlight, type Logger } from '@hoarfrost/runtime';
import { createAdminHandlers } from './admin.js';
import { createCoordinatorApp } from './app.js';
import type { CoordinatorConfig, SignerEntry } from './config.js';
import { createCoordinatorMetrics, signerClientMetricHooks } from './metrics.js';
import { Orchestrator } from './orchestrator.js';
import { SignerRegistry } from './registry.js';
import { CommitmentPool } from './commitment-pool.js';
import type { SignerHandle } from './signer-handle.js';

export interface Coordinator {
  start(): Promise<void>;
  close(): Promise<void>;
  readonly ready: boolean;
  /** Bound ports (after start); `signers`: the listener for signers that dial in, when configured. */
  ports(): { api: number; ops: number; signers?: number };
}


async function loadOpenApi(): Promise<unknown> {
  return JSON.parse(await readFile(new URL('../openapi.json', import.meta.url), 'utf8'));
}

export function createCoordinator(config: Readonly<CoordinatorConfig>, options: { logger?: Logger } = {}): Coordinator {
  const logger = options.logger ?? createLogger('coordinator', config.logLevel);
  let registry: SignerRegistry | undefined;
  let api: HttpsServer | undefined;
  let healthTimer: NodeJS.Timeout | undefined;
  let signerListener: HttpsServer | undefined;
  let pool: CommitmentPool | undefined;
  let audit: AuditTrail | undefined;
  /** Readiness fails from SIGTERM on; requests are refused only once the listener has closed. */
  let stopping = false;
  let draining = false;
  let inFlight: InFlight | undefined;
  const ports: { api: number; ops: number; signers?: number } = { api: 0, ops: 0 };

  const notReadyReason = (): string | undefined => {
    if (stopping) return 'shutting down';
    if (!registry) return 'starting: signers not checked yet';
    if (config.audit.failClosed && audit?.failure) return `audit trail failed: ${audit.failure.message}`;
    return registry.notReadyReason();
  };
  const metrics = createCoordinatorMetrics(
    () => notReadyReason() === undefined,
    () => registry?.countByState() ?? {},
  );
  const documents: Record<string, unknown> = {};
  const ops = createOpsServer({ registry: metrics.registry, notReadyReason, documents });

  return {
    get ready() {
      return notReadyReason() === undefined;
    },
    ports: () => ({ ...ports }),

    async start() {
      if (config.groupBackend !== 'auto') setGroupBackend(config.groupBackend);
      ports.ops = await listen(ops, config.opsPort, config.opsHost);
      const read = (p: string) => readFile(p, 'utf8');
      // Pinned, the default key's package comes from configuration; else every key from the signers.
      let pkp: PublicKeyPackage | undefined;
      if (config.publicKeyPackageFile) {
        pkp = publicKeyPackageFromJson(await read(config.publicKeyPackageFile));
        pkp.assertConsistent();
      }
      const [cert, key, clientCa, signerCert, signerKey, signerCa, jwtKey, jwksText, openapi] = await Promise.all([
        read(config.tls.certFile),
        read(config.tls.keyFile),
        config.tls.clientCaFile ? read(config.tls.clientCaFile) : Promise.resolve(undefined),
        read(config.signerTls.certFile),
        read(config.signerTls.keyFile),
        read(config.signerTls.caFile),
        read(config.rpcJwt.keyFile),
        config.auth.jwksFile ? read(config.auth.jwksFile) : Promise.resolve(undefined),
        loadOpenApi(),
      ]);
      const tokens = new RpcTokenSigner({
        privateKey: loadEd25519PrivateKey(jwtKey),
        kid: config.rpcJwt.kid,
        issuer: config.rpcJwt.issuer,
        lifetimeSeconds: config.rpcJwt.lifetimeSeconds,
      });
      const clients = new Map<string, SignerClient>();
      const connect = (s: SignerEntry) => {
        const observed = signerClientMetricHooks(metrics, s.id, s.inbound || config.signerTransport !== 'http1');
        const client = new SignerClient({
          id: s.id,
          // A signer that dials in has no address: its client never dials (nor falls back to HTTP).
          url: s.inbound ? `https://${s.id}.inbound.invalid` : s.url,
          ...(s.inbound ? { dial: false, transport: 'channel' as const } : { transport: config.signerTransport }),
          caPem: signerCa,
          certPem: signerCert,
          keyPem: signerKey,
          tokens,
          timeoutMs: config.signerTimeoutMs,
          maxInFlight: config.signerMaxInFlight,
          maxBatchItems: config.signerMaxBatch,
          // The channel's own liveness check runs at least as often as the health loop.
          pingIntervalMs: Math.min(config.healthIntervalMs, 5000),
          onChannelState: (state) => {
            observed.onChannelState(state);
            registry?.channelChanged(s.id, state);
          },
          onChannelConnect: observed.onChannelConnect,
          onRpcSent: observed.onRpcSent,
        });
        clients.set(s.id, client);
        return client;
      };
      assertCallersAreNotSigners(config, signerCert);
      audit = await openServiceAuditTrail(config.audit, logger, 'COORDINATOR_');
      documents['/openapi.json'] = openapi;
      pool = new CommitmentPool({ size: config.preprocess.poolSize, batch: config.preprocess.batch, maxKeys: config.preprocess.maxKeys });
      const refill = (h: SignerHandle) => {
        if (h.healthy) for (const keyId of preprocessedKeys(registry!, config.preprocess.maxKeys)) pool!.key(keyId).refill(h);
      };
      registry = new SignerRegistry({ config, pkp, connect, metrics, logger, onRestart: (h) => pool!.flush(h), onChannelUp: refill });
      const orchestrator = new Orchestrator({ config, registry, metrics, pool });
      const app = createCoordinatorApp({
        config,
        registry,
        orchestrator,
        metrics,
        logger,
        ...(jwksText ? { inboundJwks: parseJwks(jwksText) } : {}),
        ...(audit ? { audit } : {}),
        isDraining: () => draining,
        admin: createAdminHandlers({ registry, metrics, logger, ...(audit ? { audit } : {}), stepTimeoutMs: config.admin.keygenStepTimeoutMs }),
      });
      // TLS 1.3 only: no renegotiation, so a connection's client identity (cached per socket) cannot change.
      const tls = config.auth.mode !== 'jwt' && clientCa ? mtlsServerOptions({ certPem: cert, keyPem: key, caPem: clientCa }) : { cert, key, minVersion: 'TLSv1.3' as const };
      api = createHttpsServer({ ...tls, keepAliveTimeout: 65_000 }, app);
      api.headersTimeout = 10_000;
      api.requestTimeout = 60_000;
      inFlight = trackInFlight(api);
      const checkAndFill = async () => {
        await registry!.checkAll();
        pool!.retain(preprocessedKeys(registry!, config.preprocess.maxKeys));
        for (const h of registry!.handles) refill(h);
      };
      if (config.signerListen) {
        const inbound = config.signers.filter((s) => s.inbound);
        signerListener = createSignerListener({
          certPem: cert,
          keyPem: key,
          signerCaPem: signerCa,
          adopt: new Map(inbound.map((s) => [s.id, (ws) => clients.get(s.id)!.adopt(ws)])),
          maxAnswerBytes: DEFAULT_MAX_RESPONSE_BYTES,
          logger,
        });
        ports.signers = await listen(signerListener as unknown as HttpServer, config.signerListen.port, config.signerListen.host);
      }
      await checkAndFill();
      healthTimer = setInterval(() => void checkAndFill(), config.healthIntervalMs);
      healthTimer.unref();
      ports.api = await listen(api, config.port, config.host);
      logger.info(
        {
          port: ports.api,
          opsPort: ports.ops,
          ...(ports.signers !== undefined ? { signerListenPort: ports.signers } : {}),
          keys: registry.keys().map((k) => ({ keyId: k.keyId, state: k.state, threshold: `${k.pkp.minSigners}-of-${k.pkp.maxSigners}`, pinned: k.pinned })),
          signers: registry.handles.map((h) => ({ id: h.id, healthy: h.healthy })),
          authMode: config.auth.mode,
        },
        'coordinator ready',
      );
    },

    async close() {
      stopping = true;
      if (api && inFlight) {
        await drain(api, inFlight, { delayMs: config.shutdownDelayMs, graceMs: config.shutdownGraceMs, onListenerClose: () => (draining = true) });
      }
      draining = true;
      if (healthTimer) clearInterval(healthTimer);
      if (signerListener) await closeServer(signerListener as unknown as HttpServer);
      pool?.close();
      await audit?.close();
      await registry?.close();
      await closeServer(ops);
      logger.info('coordinator stopped');
    },
  };
}

/**
 * The keys preprocessed (commitments pooled ahead): the active ones, the default key first, then by
 * key id, at most `maxKeys`.
 */
function preprocessedKeys(registry: SignerRegistry, maxKeys: number): string[] {
  const active = registry.keys().filter((k) => k.state === 'active').map((k) => k.keyId);
  const ordered = active.includes(registry.defaultKeyId) ? [registry.defaultKeyId, ...active.filter((k) => k !== registry.defaultKeyId)] : active;
  return ordered.slice(0, maxKeys);
}

/**
 * The coordinator's own signer-client certificate must not be a caller: a caller SAN list that names
 * it would let anything holding that key (or a certificate like it) sign through the public API.
 */
function assertCallersAreNotSigners(config: Readonly<CoordinatorConfig>, signerClientCertPem: string): void {
  if (config.auth.mode === 'jwt') return;
  const sans = subjectAltNames(new X509Certificate(signerClientCertPem).subjectAltName);
  const clash = config.auth.allowedClientSans.filter((id) => sanMatches(sans, id));
  if (clash.length > 0) throw new ConfigError(`COORDINATOR_ALLOWED_CLIENT_SANS names the coordinator's own signer-client certificate (${clash.join(', ')}): callers need identities of their own`);
}
