/**
 * The configured signers, one {@link SignerHandle} each, and their health. Only these URLs are ever
 * dialled (request-supplied `signer_urls` must name entries of this registry).
 * @module
 */
import { Identifier, type PublicKeyPackage } from '@hoarfrost/frost';
import { SignerCallError, type SignerRpc } from '@hoarfrost/rpc';
import type { Logger } from '@hoarfrost/runtime';
import { CircuitBreaker } from './breaker.js';
import type { CoordinatorConfig, SignerEntry } from './config.js';
import type { CoordinatorMetrics } from './metrics.js';
import { SignerHandle } from './signer-handle.js';

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Why a signer that answered its health check is still not usable for our key (logged, and the signer is unhealthy). */
class KeyMismatch extends Error {}

export class SignerRegistry {
  readonly handles: readonly SignerHandle[];
  readonly #byUrl = new Map<string, SignerHandle>();
  readonly #keyId: string;
  readonly #pkp: PublicKeyPackage;
  readonly #metrics: CoordinatorMetrics;
  readonly #log: Logger;
  readonly #onRestart: (h: SignerHandle) => void;

  /** `connect` makes the RPC client of one configured signer (mTLS in production, a double in tests). */
  constructor(args: {
    config: Pick<CoordinatorConfig, 'signers' | 'keyId' | 'breaker'>;
    pkp: PublicKeyPackage;
    connect: (signer: SignerEntry) => SignerRpc;
    metrics: CoordinatorMetrics;
    logger: Logger;
    /** A signer came back as a new process: what it issued before (pooled commitments) is gone. */
    onRestart?: (h: SignerHandle) => void;
  }) {
    this.#onRestart = args.onRestart ?? (() => {});
    this.#keyId = args.config.keyId;
    this.#pkp = args.pkp;
    this.#metrics = args.metrics;
    this.#log = args.logger;
    this.handles = args.config.signers.map((s) => {
      const breaker = new CircuitBreaker(args.config.breaker);
      const h = new SignerHandle({ id: s.id, url: s.url, client: args.connect(s), breaker, metrics: args.metrics, logger: args.logger });
      breaker.onChange = (state) => {
        this.#metrics.breakerState.set({ signer: s.id }, BREAKER_VALUE[state]);
        this.#log.info({ signer: s.id, breaker: state }, 'circuit breaker changed');
      };
      this.#metrics.breakerState.set({ signer: s.id }, 0);
      // From 0, so that a signer's first culprit shows as an increase.
      this.#metrics.culprits.inc({ signer: s.id }, 0);
      this.#metrics.signerHealthy.set({ signer: s.id }, 0);
      this.#byUrl.set(s.url, h);
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

  /**
   * The largest message every healthy signer accepts, and at most `configured`: a message over it
   * would be refused by a signer, so it is refused before any round.
   */
  maxMessageBytes(configured: number): number {
    let limit = configured;
    for (const h of this.handles) if (h.healthy && h.maxMessageBytes !== undefined) limit = Math.min(limit, h.maxMessageBytes);
    return limit;
  }

  healthyCount(): number {
    return this.handles.filter((h) => h.healthy).length;
  }

  /** One health round: info RPC to every signer, checking it holds a share of our key. */
  async checkAll(): Promise<void> {
    await Promise.all(this.handles.map((h) => this.check(h)));
  }

  async check(h: SignerHandle): Promise<void> {
    try {
      const info = await h.info(this.#keyId);
      const identifier = Identifier.fromBytes(info.identifier);
      const key = info.keys.find((k) => k.key_id === this.#keyId);
      const entry = this.#pkp.verifyingShares.get(identifier.toHex());
      if (!key || !entry) throw new KeyMismatch(`signer does not hold a share of key "${this.#keyId}"`);
      if (Buffer.compare(key.verifying_key, this.#pkp.verifyingKeyBytes) !== 0) throw new KeyMismatch('signer holds a different group key');
      if (Buffer.compare(key.verifying_share, entry.verifyingShare.toBytes()) !== 0) throw new KeyMismatch('signer verifying share differs from the public key package');
      const other = this.handles.find((o) => o !== h && o.identifier?.equals(identifier));
      if (other) throw new KeyMismatch(`identifier ${identifier} is also claimed by ${other.id}`);
      if (!h.healthy) this.#log.info({ signer: h.id, identifier: identifier.toString() }, 'signer healthy');
      const instance = info.instance_id ? Buffer.from(info.instance_id).toString('hex') : undefined;
      const restarted = h.instanceId !== undefined && instance !== h.instanceId;
      h.instanceId = instance;
      h.maxMessageBytes = info.max_message_bytes;
      if (restarted) {
        this.#log.info({ signer: h.id }, 'signer restarted');
        this.#onRestart(h);
      }
      h.identifier = identifier;
      h.healthy = true;
      h.lastError = undefined;
    } catch (e) {
      const code = e instanceof SignerCallError ? e.code : 'KEY_MISMATCH';
      if (h.healthy || h.lastError === undefined) this.#log.warn({ signer: h.id, code, err: (e as Error).message }, 'signer unhealthy');
      h.healthy = false;
      h.lastError = (e as Error).message;
    }
    this.#metrics.signerHealthy.set({ signer: h.id }, h.healthy ? 1 : 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.close()));
  }
}
