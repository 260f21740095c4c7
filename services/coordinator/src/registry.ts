/**
 * The configured signers: one keep-alive mTLS client, circuit breaker and health state each. Only
 * these URLs are ever dialled (request-supplied `signer_urls` must name entries of this registry).
 * @module
 */
import { Identifier, type PublicKeyPackage } from '@frostd/frost';
import { SignerClient, type Logger, type RpcTokenSigner } from '@frostd/transport';
import { CircuitBreaker } from './breaker.js';
import type { CoordinatorConfig } from './config.js';
import type { CoordinatorMetrics } from './metrics.js';

export class SignerHandle {
  readonly id: string;
  readonly url: string;
  readonly client: SignerClient;
  readonly breaker: CircuitBreaker;
  /** Learned from the signer's info RPC and checked against the public key package. */
  identifier: Identifier | undefined;
  healthy = false;
  lastError: string | undefined;

  constructor(id: string, url: string, client: SignerClient, breaker: CircuitBreaker) {
    this.id = id;
    this.url = url;
    this.client = client;
    this.breaker = breaker;
  }
}

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

export class SignerRegistry {
  readonly handles: SignerHandle[];
  readonly #byUrl = new Map<string, SignerHandle>();
  readonly #config: Readonly<CoordinatorConfig>;
  readonly #pkp: PublicKeyPackage;
  readonly #metrics: CoordinatorMetrics;
  readonly #log: Logger;

  constructor(args: {
    config: Readonly<CoordinatorConfig>;
    pkp: PublicKeyPackage;
    tokens: RpcTokenSigner;
    tls: { caPem: string; certPem: string; keyPem: string };
    metrics: CoordinatorMetrics;
    logger: Logger;
  }) {
    this.#config = args.config;
    this.#pkp = args.pkp;
    this.#metrics = args.metrics;
    this.#log = args.logger;
    this.handles = args.config.signers.map((s) => {
      const client = new SignerClient({ url: s.url, serverName: s.id, audience: s.id, ...args.tls, tokens: args.tokens, timeoutMs: args.config.signerTimeoutMs });
      const breaker = new CircuitBreaker(args.config.breaker);
      const h = new SignerHandle(s.id, client.url, client, breaker);
      breaker.onChange = (state) => {
        this.#metrics.breakerState.set({ signer: s.id }, BREAKER_VALUE[state]);
        this.#log.info({ signer: s.id, breaker: state }, 'circuit breaker changed');
      };
      this.#metrics.breakerState.set({ signer: s.id }, 0);
      this.#metrics.signerHealthy.set({ signer: s.id }, 0);
      this.#byUrl.set(h.url, h);
      return h;
    });
  }

  /** The handle for a URL given in a request (normalised to its origin), if registered. */
  byUrl(url: string): SignerHandle | undefined {
    try {
      return this.#byUrl.get(new URL(url).origin);
    } catch {
      return undefined;
    }
  }

  byIdentifier(id: Identifier): SignerHandle | undefined {
    return this.handles.find((h) => h.identifier?.equals(id));
  }

  healthyCount(): number {
    return this.handles.filter((h) => h.healthy).length;
  }

  /** One health round: info RPC to every signer, checking it holds a share of our key. */
  async checkAll(): Promise<void> {
    await Promise.all(this.handles.map((h) => this.check(h)));
  }

  async check(h: SignerHandle): Promise<void> {
    const start = process.hrtime.bigint();
    try {
      const info = await h.client.info(this.#config.keyId);
      this.#metrics.signerLatency.observe({ signer: h.id, rpc: 'info' }, Number(process.hrtime.bigint() - start) / 1e9);
      const identifier = Identifier.fromBytes(info.identifier);
      const key = info.keys.find((k) => k.key_id === this.#config.keyId);
      const entry = this.#pkp.verifyingShares.get(identifier.toHex());
      if (!key || !entry) throw new Error(`signer does not hold a share of key "${this.#config.keyId}"`);
      if (Buffer.compare(Buffer.from(key.verifying_key), Buffer.from(this.#pkp.verifyingKeyBytes)) !== 0) {
        throw new Error('signer holds a different group key');
      }
      if (Buffer.compare(Buffer.from(key.verifying_share), Buffer.from(entry.verifyingShare.toBytes())) !== 0) {
        throw new Error('signer verifying share differs from the public key package');
      }
      const other = this.handles.find((o) => o !== h && o.identifier?.equals(identifier));
      if (other) throw new Error(`identifier ${identifier} is also claimed by ${other.id}`);
      if (!h.healthy) this.#log.info({ signer: h.id, identifier: identifier.toString() }, 'signer healthy');
      h.identifier = identifier;
      h.healthy = true;
      h.lastError = undefined;
      this.#metrics.signerRequests.inc({ signer: h.id, rpc: 'info', outcome: 'ok' });
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'KEY_MISMATCH';
      if (h.healthy || h.lastError === undefined) this.#log.warn({ signer: h.id, code, err: (e as Error).message }, 'signer unhealthy');
      h.healthy = false;
      h.lastError = (e as Error).message;
      this.#metrics.signerRequests.inc({ signer: h.id, rpc: 'info', outcome: code });
    }
    this.#metrics.signerHealthy.set({ signer: h.id }, h.healthy ? 1 : 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.client.close()));
  }
}
