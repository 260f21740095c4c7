/**
 * Round-one commitments for signings, preprocessed where possible (RFC 9591 §5.1 allows round one
 * ahead of time): per key and signer, a pool of commitments fetched in batches, so that `/sign`
 * usually needs only round two. Each pooled commitment is handed out once. Entries are dropped before
 * the signer would expire their nonces, and a signer that no longer knows a commitment (restart) has
 * its pools flushed. Pools are kept for a bounded number of keys: a key past the bound gets its
 * commitments by round 1 inside each request.
 *
 * Commitments are handed out as the signer sent them, not validated here: every signer of a package
 * validates the others' commitments itself (RFC 9591 §5.2) and refuses an invalid one, and the
 * coordinator computes nothing from them on its way to a verified signature. Only when a signer
 * refuses a package, or a signature fails to verify, does the orchestrator validate the package's
 * commitments ({@link validCommitments}) to convict whoever issued an invalid one.
 * @module
 */
import { FrostError, SigningCommitments } from '@hoarfrost/frost';
import type { CommitmentWire } from '@hoarfrost/rpc';
import type { SignerHandle } from './signer-handle.js';

interface Pooled {
  wire: CommitmentWire;
  /** Local time after which the entry is not offered (signer TTL minus a safety margin). */
  usableUntil: number;
}

/** Share of the signer's nonce TTL during which a pooled commitment is offered, and a fixed margin. */
const TTL_SHARE = 0.8;
const TTL_MARGIN_MS = 1000;

/**
 * The pools of every key: {@link CommitmentPool.key} gives the pool of one key (made on first use,
 * for at most `maxKeys` keys).
 */
export class CommitmentPool {
  readonly #pools = new Map<string, KeyCommitmentPool>();
  readonly #size: number;
  readonly #batch: number;
  readonly #maxKeys: number;
  #closed = false;

  /**
   * `size` commitments kept per key and signer (0: no preprocessing), fetched `batch` at a time, for
   * at most `maxKeys` keys.
   */
  constructor(args: { size: number; batch: number; maxKeys?: number }) {
    if (!Number.isInteger(args.size) || args.size < 0) throw new RangeError('size must be a non-negative integer');
    if (!Number.isInteger(args.batch) || args.batch < 1) throw new RangeError('batch must be a positive integer');
    const maxKeys = args.maxKeys ?? 8;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a positive integer');
    this.#size = args.size;
    this.#batch = args.batch;
    this.#maxKeys = maxKeys;
  }

  /**
   * The pool of `keyId`. Past `maxKeys` pooled keys (or once closed), a pool that keeps nothing: its
   * commitments come by round 1 inside the request.
   */
  key(keyId: string): KeyCommitmentPool {
    const pool = this.#pools.get(keyId);
    if (pool) return pool;
    if (this.#closed || this.#pools.size >= this.#maxKeys) {
      const unpooled = new KeyCommitmentPool({ size: 0, batch: this.#batch, keyId });
      if (this.#closed) unpooled.close();
      return unpooled;
    }
    const fresh = new KeyCommitmentPool({ size: this.#size, batch: this.#batch, keyId });
    this.#pools.set(keyId, fresh);
    return fresh;
  }

  /** Forgets every pooled commitment of `h`, for every key (it restarted). */
  flush(h: SignerHandle): void {
    for (const pool of this.#pools.values()) pool.flush(h);
  }

  /** Drops the pools of keys not in `keyIds` (no longer active): their room goes to other keys. */
  retain(keyIds: Iterable<string>): void {
    const keep = new Set(keyIds);
    for (const [keyId, pool] of this.#pools) {
      if (keep.has(keyId)) continue;
      pool.close();
      this.#pools.delete(keyId);
    }
  }

  /** Keys with a pool now. */
  keys(): string[] {
    return [...this.#pools.keys()];
  }

  close(): void {
    this.#closed = true;
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }
}

/** The commitments of one key: per signer, those pooled, and round 1 for more. */
export class KeyCommitmentPool {
  readonly #entries = new Map<SignerHandle, Pooled[]>();
  readonly #refilling = new Set<SignerHandle>();
  readonly #size: number;
  readonly #batch: number;
  readonly keyId: string;
  #closed = false;

  /** `size` commitments kept per signer (0: no preprocessing), fetched `batch` at a time. */
  constructor(args: { size: number; batch: number; keyId: string }) {
    if (!Number.isInteger(args.size) || args.size < 0) throw new RangeError('size must be a non-negative integer');
    if (!Number.isInteger(args.batch) || args.batch < 1) throw new RangeError('batch must be a positive integer');
    this.#size = args.size;
    this.#batch = Math.min(args.batch, Math.max(1, args.size));
    this.keyId = args.keyId;
  }

  /** A fresh commitment of `h` from the pool (unvalidated), or undefined when none is pooled. */
  take(h: SignerHandle): SigningCommitments | undefined {
    return this.takeMany(h, 1)[0];
  }

  /** Up to `n` fresh commitments of `h` from the pool (fewer, or none, when fewer are pooled). */
  takeMany(h: SignerHandle, n: number): SigningCommitments[] {
    if (this.#size === 0) return [];
    const list = this.#entries.get(h) ?? [];
    const now = Date.now();
    const out: SigningCommitments[] = [];
    let entry: Pooled | undefined;
    while (out.length < n && (entry = list.shift())) if (entry.usableUntil > now) out.push(commitmentsOf(entry.wire));
    this.refill(h);
    return out;
  }

  /** A commitment fetched from `h` now (round 1 inside a request). */
  async fetch(h: SignerHandle, signal?: AbortSignal): Promise<SigningCommitments> {
    return (await this.fetchMany(h, 1, signal))[0]!;
  }

  /** `n` commitments fetched from `h` now, in round-1 requests no larger than the signer takes. */
  async fetchMany(h: SignerHandle, n: number, signal?: AbortSignal): Promise<SigningCommitments[]> {
    const per = Math.max(1, h.maxCommitmentBatch ?? this.#batch);
    const asks: number[] = [];
    for (let left = n; left > 0; left -= per) asks.push(Math.min(per, left));
    const answers = await Promise.all(asks.map((count) => h.commit(this.keyId, count, signal)));
    return answers.flatMap((r) => r.commitments.map(commitmentsOf));
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
   * trial that lets a recovered signer back in. While open, or while `h` is not usable for this key,
   * nothing is sent.
   */
  refill(h: SignerHandle): void {
    if (this.#closed || this.#refilling.has(h) || !h.identifierFor(this.keyId)) return;
    const wanted = this.#size === 0 ? 0 : Math.min(this.#batch, this.#size - this.size(h));
    const trial = h.breaker.state === 'half-open';
    if (!trial && (this.#size === 0 || this.size(h) > this.#size / 2)) return;
    if (!h.breaker.admit()) return;
    this.#refilling.add(h);
    h.commit(this.keyId, Math.max(1, wanted))
      .then((r) => {
        if (this.#closed || wanted === 0) return; // a trial's commitment with nowhere to go expires unused on the signer
        const usableUntil = Date.now() + r.ttlMs * TTL_SHARE - TTL_MARGIN_MS;
        const list = this.#entries.get(h) ?? [];
        for (const wire of r.commitments) list.push({ wire, usableUntil });
        this.#entries.set(h, list);
      }, () => {
        /* counted, logged and fed to the breaker by the handle */
      })
      .finally(() => this.#refilling.delete(h));
  }

  close(): void {
    this.#closed = true;
    this.#entries.clear();
  }
}

/** A signer's commitment as the library takes it: its encodings, to be validated by whoever computes with them. */
function commitmentsOf(wire: CommitmentWire): SigningCommitments {
  return SigningCommitments.fromTrustedBytes(wire.hiding, wire.binding);
}

/**
 * DeserializeElement on both encodings (RFC 9591 §6.1, via SigningCommitments): the validated
 * commitments, or the FrostError that shows them invalid.
 */
export function validCommitments(c: SigningCommitments): SigningCommitments | FrostError {
  try {
    return SigningCommitments.fromBytes(c.hidingBytes, c.bindingBytes);
  } catch (err) {
    if (err instanceof FrostError) return err;
    throw err;
  }
}
