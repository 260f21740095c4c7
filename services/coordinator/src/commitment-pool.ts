/**
 * Round-one commitments for signings, preprocessed where possible (RFC 9591 §5.1 allows round one
 * ahead of time): per signer, a pool of commitments fetched in batches, so that `/sign` usually needs
 * only round two. Each pooled commitment is handed out once. Entries are dropped before the signer
 * would expire their nonces, and a signer that no longer knows a commitment (restart) has its pool
 * flushed. This is the one place where a signer's commitment encodings become validated
 * SigningCommitments, and where an invalid one convicts the signer.
 * @module
 */
import { FrostError, SigningCommitments } from '@hoarfrost/frost';
import type { CommitmentWire } from '@hoarfrost/rpc';
import type { SignerHandle } from './signer-handle.js';

interface Pooled {
  wire: CommitmentWire;
  /** Validated already (in the background, between requests). */
  checked?: SigningCommitments;
  invalid?: FrostError;
  /** Local time after which the entry is not offered (signer TTL minus a safety margin). */
  usableUntil: number;
}

/** Share of the signer's nonce TTL during which a pooled commitment is offered, and a fixed margin. */
const TTL_SHARE = 0.8;
const TTL_MARGIN_MS = 1000;

export class CommitmentPool {
  readonly #entries = new Map<SignerHandle, Pooled[]>();
  readonly #refilling = new Set<SignerHandle>();
  readonly #size: number;
  readonly #batch: number;
  readonly #keyId: string;
  #closed = false;

  /** `size` commitments kept per signer (0: no preprocessing), fetched `batch` at a time. */
  constructor(args: { size: number; batch: number; keyId: string }) {
    if (!Number.isInteger(args.size) || args.size < 0) throw new RangeError('size must be a non-negative integer');
    if (!Number.isInteger(args.batch) || args.batch < 1) throw new RangeError('batch must be a positive integer');
    this.#size = args.size;
    this.#batch = Math.min(args.batch, Math.max(1, args.size));
    this.#keyId = args.keyId;
  }

  /**
   * A fresh, validated commitment of `h` from the pool, or undefined when none is pooled. Throws the
   * SignerCallError of an invalid commitment (the signer issued it: it is convicted). Entries are
   * normally validated already, in the background.
   */
  take(h: SignerHandle): SigningCommitments | undefined {
    if (this.#size === 0) return undefined;
    const list = this.#entries.get(h) ?? [];
    const now = Date.now();
    let entry: Pooled | undefined;
    while ((entry = list.shift()) && entry.usableUntil <= now);
    this.refill(h);
    if (!entry) return undefined;
    return this.#checked(h, entry);
  }

  /** A commitment fetched from `h` now (round 1 inside a request), validated. */
  async fetch(h: SignerHandle, signal?: AbortSignal): Promise<SigningCommitments> {
    const r = await h.commit(this.#keyId, 1, signal);
    return this.#checked(h, { wire: r.commitments[0]!, usableUntil: Infinity });
  }

  /** Forgets every pooled commitment of `h` (it restarted or failed). */
  flush(h: SignerHandle): void {
    this.#entries.delete(h);
  }

  size(h: SignerHandle): number {
    return this.#entries.get(h)?.length ?? 0;
  }

  /**
   * Tops the pool of `h` up in the background when it is below half full. While the signer's breaker
   * is half-open the refill is its trial request; while open, nothing is sent.
   */
  refill(h: SignerHandle): void {
    if (this.#size === 0 || this.#closed || this.#refilling.has(h) || !h.identifier) return;
    if (this.size(h) > this.#size / 2) return;
    if (!h.breaker.admit()) return;
    this.#refilling.add(h);
    const count = Math.min(this.#batch, this.#size - this.size(h));
    h.commit(this.#keyId, count)
      .then((r) => {
        if (this.#closed) return;
        const usableUntil = Date.now() + r.ttlMs * TTL_SHARE - TTL_MARGIN_MS;
        const list = this.#entries.get(h) ?? [];
        for (const wire of r.commitments) list.push({ wire, usableUntil });
        this.#entries.set(h, list);
        this.#validateLater(list);
      }, () => {
        /* counted, logged and fed to the breaker by the handle */
      })
      .finally(() => this.#refilling.delete(h));
  }

  close(): void {
    this.#closed = true;
    this.#entries.clear();
  }

  #checked(h: SignerHandle, entry: Pooled): SigningCommitments {
    validate(entry);
    if (entry.checked) return entry.checked;
    this.flush(h);
    throw h.convict('round1', entry.invalid!);
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
        validate(e);
        if (++n === 2) return void setImmediate(step);
      }
    };
    setImmediate(step);
  }
}

/** DeserializeElement on both encodings, once per entry (RFC 9591 §6.1, via SigningCommitments). */
function validate(e: Pooled): void {
  if (e.checked || e.invalid) return;
  try {
    e.checked = SigningCommitments.fromBytes(e.wire.hiding, e.wire.binding);
  } catch (err) {
    if (!(err instanceof FrostError)) throw err;
    e.invalid = err;
  }
}
