/**
 * The configured signers, one {@link SignerHandle} each, and their health. Only these URLs are ever
 * dialled (request-supplied `signer_urls` must name entries of this registry).
 * @module
 */
import { Identifier, type PublicKeyPackage } from '@hoarfrost/frost';
import { SignerCallError, type ChannelState, type SignerRpc } from '@hoarfrost/rpc';
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
  /** The participant each signer must answer as (COORDINATOR_SIGNER_PARTICIPANTS). */
  readonly #pinned = new Map<SignerHandle, Identifier>();
  readonly #onChannelUp: (h: SignerHandle) => void;

  /** `connect` makes the RPC client of one configured signer (mTLS in production, a double in tests). */
  constructor(args: {
    config: Pick<CoordinatorConfig, 'signers' | 'keyId' | 'breaker'>;
    pkp: PublicKeyPackage;
    connect: (signer: SignerEntry) => SignerRpc;
    metrics: CoordinatorMetrics;
    logger: Logger;
    /** A signer came back as a new process: what it issued before (pooled commitments) is gone. */
    onRestart?: (h: SignerHandle) => void;
    /** A signer's channel opened and its check has run (e.g. to refill its pool at once). */
    onChannelUp?: (h: SignerHandle) => void;
  }) {
    this.#onRestart = args.onRestart ?? (() => {});
    this.#onChannelUp = args.onChannelUp ?? (() => {});
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
      if (s.participant !== undefined) this.#pinned.set(h, Identifier.fromHex(s.participant));
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
   * The largest message that t healthy signers accept, and at most `configured`: a larger one cannot
   * be signed, so it is refused before any round. It is the t-th largest limit, not the smallest: one
   * signer announcing a tiny limit only takes itself out of quorums for larger messages (the
   * orchestrator picks among the signers that accept the message), never blocks every caller.
   */
  maxMessageBytes(configured: number): number {
    const limits = this.handles.filter((h) => h.healthy).map((h) => Math.min(configured, h.maxMessageBytes ?? configured));
    const t = this.#pkp.minSigners;
    if (limits.length < t) return configured;
    return limits.sort((a, b) => b - a)[t - 1]!;
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
      const pinned = this.#pinned.get(h);
      if (pinned && !identifier.equals(pinned)) throw new KeyMismatch(`signer answered as participant ${identifier}; it is pinned to ${pinned}`);
      const other = this.handles.find((o) => o !== h && o.identifier?.equals(identifier));
      if (other) throw new KeyMismatch(`identifier ${identifier} is also claimed by ${other.id}`);
      if (!h.healthy) this.#log.info({ signer: h.id, identifier: identifier.toString() }, 'signer healthy');
      const instance = info.instance_id ? Buffer.from(info.instance_id).toString('hex') : undefined;
      const restarted = h.instanceId !== undefined && instance !== h.instanceId;
      h.instanceId = instance;
      h.maxMessageBytes = info.max_message_bytes;
      h.maxCommitmentBatch = info.max_commitment_batch;
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

  /**
   * Health from the channel itself: a signer whose channel connection ends is unhealthy at once
   * (its calls fail fast until it is back); one whose channel (re)opens is checked at once, since it
   * may be a new process.
   */
  channelChanged(id: string, state: ChannelState): void {
    const h = this.handles.find((x) => x.id === id);
    if (!h) return;
    if (state === 'open') {
      void this.check(h).then(() => this.#onChannelUp(h));
    } else if (state === 'idle' && h.healthy) {
      h.healthy = false;
      h.lastError = 'channel connection lost';
      this.#log.warn({ signer: h.id, code: 'SIGNER_UNREACHABLE', err: h.lastError }, 'signer unhealthy');
      this.#metrics.signerHealthy.set({ signer: h.id }, 0);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.close()));
  }
}
