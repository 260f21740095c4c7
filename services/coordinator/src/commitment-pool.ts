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

  /** The usable commitments pooled for `h` (expired ones are dropped first). */
  size(h: SignerHandle): number {
    const list = this.#entries.get(h);
    if (!list) return 0;
    const now = Date.now();
    while (list.length > 0 && list[0]!.usableUntil <= now) list.shift();
    return list.length;
  }

  /**
   * Tops the pool of `h` up in the background when it is below half full. While the signer's breaker
   * is half-open a round 1 is sent whatever the pool holds (or with preprocessing off): it is the
   * trial that lets a recovered signer back in. While open, nothing is sent.
   */
  refill(h: SignerHandle): void {
    if (this.#closed || this.#refilling.has(h) || !h.identifier) return;
    const wanted = this.#size === 0 ? 0 : Math.min(this.#batch, this.#size - this.size(h));
    const trial = h.breaker.state === 'half-open';
    if (!trial && (this.#size === 0 || this.size(h) > this.#size / 2)) return;
    if (!h.breaker.admit()) return;
    this.#refilling.add(h);
    h.commit(this.#keyId, Math.max(1, wanted))
      .then((r) => {
        if (this.#closed || wanted === 0) return; // a trial's commitment with nowhere to go expires unused on the signer
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
