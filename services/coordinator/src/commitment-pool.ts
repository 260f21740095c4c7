/**
 * Preprocessed commitments (RFC 9591 §5.1 allows round one ahead of time): per signer, a pool of
 * validated commitments fetched in batches, so that `/sign` needs only round two. Each pooled
 * commitment is handed out once. Entries are dropped before the signer would expire their nonces, and
 * a signer that no longer knows a commitment (restart) has its pool flushed.
 * @module
 */
import { Identifier, SigningCommitments } from '@frostd/frost';
import type { Logger } from '@frostd/transport';
import type { CoordinatorMetrics } from './metrics.js';
import type { SignerHandle } from './registry.js';

interface Pooled {
  hiding: Uint8Array;
  binding: Uint8Array;
  /** Validated already (in the background, between requests). */
  checked?: SigningCommitments;
  invalid?: unknown;
  /** Local time after which the entry is not offered (signer TTL minus a safety margin). */
  usableUntil: number;
}

export class CommitmentPool {
  readonly #entries = new Map<SignerHandle, Pooled[]>();
  readonly #refilling = new Set<SignerHandle>();
  readonly #size: number;
  readonly #batch: number;
  readonly #keyId: string;
  readonly #metrics: CoordinatorMetrics;
  readonly #log: Logger;
  #closed = false;

  constructor(args: { size: number; batch: number; keyId: string; metrics: CoordinatorMetrics; logger: Logger }) {
    this.#size = args.size;
    this.#batch = Math.min(args.batch, Math.max(1, args.size));
    this.#keyId = args.keyId;
    this.#metrics = args.metrics;
    this.#log = args.logger;
  }

  get enabled(): boolean {
    return this.#size > 0;
  }

  /**
   * A fresh, validated commitment of `h`, or undefined when none is pooled (the caller then runs
   * round 1). Throws the
   * FrostError of an invalid commitment (the signer is then a culprit). Entries are normally
   * validated already, in the background.
   */
  take(h: SignerHandle): SigningCommitments | undefined {
    if (!this.enabled) return undefined;
    const list = this.#entries.get(h) ?? [];
    const now = Date.now();
    let entry: Pooled | undefined;
    while ((entry = list.shift()) && entry.usableUntil <= now);
    this.refill(h);
    if (!entry) return undefined;
    try {
      if (entry.invalid) throw entry.invalid;
      return entry.checked ?? SigningCommitments.fromBytes(entry.hiding, entry.binding);
    } catch (e) {
      this.flush(h);
      throw e;
    }
  }

  /**
   * Validates pooled entries a few at a time on idle turns of the event loop, so that `take` is
   * usually free and no single turn does a whole batch of point checks.
   */
  #validateLater(list: Pooled[]): void {
    const step = () => {
      if (this.#closed) return;
      let n = 0;
      for (const e of list) {
        if (e.checked || e.invalid) continue;
        try {
          e.checked = SigningCommitments.fromBytes(e.hiding, e.binding);
        } catch (err) {
          e.invalid = err;
        }
        if (++n === 2) return void setImmediate(step);
      }
    };
    setImmediate(step);
  }

  /** Forgets every pooled commitment of `h` (it restarted or failed). */
  flush(h: SignerHandle): void {
    this.#entries.delete(h);
  }

  size(h: SignerHandle): number {
    return this.#entries.get(h)?.length ?? 0;
  }

  /** Tops the pool of `h` up in the background when it is below half full. */
  refill(h: SignerHandle): void {
    if (!this.enabled || this.#closed || this.#refilling.has(h) || !h.identifier || h.breaker.state === 'open') return;
    if (this.size(h) > this.#size / 2) return;
    this.#refilling.add(h);
    const expected = h.identifier;
    const count = Math.min(this.#batch, this.#size - this.size(h));
    const start = process.hrtime.bigint();
    h.client
      .round1({ key_id: this.#keyId, count })
      .then((r) => {
        if (!Identifier.fromBytes(r.identifier).equals(expected)) throw new Error('signer answered with another identifier');
        const usableUntil = Date.now() + r.ttl_ms * 0.8 - 1000;
        const list = this.#entries.get(h) ?? [];
        for (const c of r.commitments) list.push({ hiding: c.hiding, binding: c.binding, usableUntil });
        this.#entries.set(h, list);
        this.#validateLater(list);
        this.#metrics.signerRequests.inc({ signer: h.id, rpc: 'round1', outcome: 'ok' });
        this.#metrics.signerLatency.observe({ signer: h.id, rpc: 'round1' }, Number(process.hrtime.bigint() - start) / 1e9);
      })
      .catch((e: unknown) => {
        const code = (e as { code?: string }).code ?? 'ERROR';
        this.#metrics.signerRequests.inc({ signer: h.id, rpc: 'round1', outcome: code });
        this.#log.debug({ signer: h.id, code }, 'commitment refill failed');
      })
      .finally(() => this.#refilling.delete(h));
  }

  close(): void {
    this.#closed = true;
    this.#entries.clear();
  }
}
