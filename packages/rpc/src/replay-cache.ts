/**
 * A bounded cache of single-use token ids (JWT `jti`, RFC 7519 §4.1.7): each id is accepted once
 * while its token lives, then forgotten. The RPC token verifier of every signer uses it, and so does
 * the coordinator for its callers' tokens.
 * @module
 */
import { InvalidArgumentError } from './errors.js';

/**
 * Default entry cap. An entry lives as long as its token: at most 60 s plus the verifier's 5 s clock
 * tolerance on each side (70 s); 40 s with the coordinator's default 30 s tokens. 200,000 entries
 * let a signer take ≈2,850 tokens per second with every one at the longest lifetime (≈5,000 at the
 * default), several times the RPC rate one signer process sustains (bench/RESULTS.md), in under
 * 50 MB even with 128-character ids. A full cache refuses new tokens instead of growing.
 */
export const DEFAULT_MAX_REPLAY_ENTRIES = 200_000;

/** What {@link ReplayCache.claim} did: took the id, found it taken, or had no room left. */
export type ReplayClaim = 'claimed' | 'replayed' | 'full';

/**
 * Token ids seen and not yet expired, bounded by `maxEntries`. Times are in seconds (JWT NumericDate).
 * Ids leave in expiry order (a min-heap), so a long-lived entry never holds shorter-lived ones in
 * place. Callers bound the ids' length and their tokens' lifetime; this cache bounds their number.
 */
export class ReplayCache {
  readonly maxEntries: number;
  readonly #expiry = new Map<string, number>();
  // A binary min-heap of (expiry, id) in two parallel arrays: the next entry to expire is at 0.
  readonly #heapAt: number[] = [];
  readonly #heapId: string[] = [];

  constructor(options: { maxEntries?: number } = {}) {
    const max = options.maxEntries ?? DEFAULT_MAX_REPLAY_ENTRIES;
    if (!Number.isSafeInteger(max) || max < 1) throw new InvalidArgumentError(`replay cache maxEntries must be a positive integer, got ${max}`);
    this.maxEntries = max;
  }

  /** Live entries (after the last sweep). */
  get size(): number {
    return this.#expiry.size;
  }

  /**
   * Claims `id` until `expiresAt`: `'claimed'` the first time, `'replayed'` while a claim on it is
   * live, `'full'` (nothing stored) when `maxEntries` live ids leave no room. Expired ids are swept first.
   */
  claim(id: string, expiresAt: number, now: number = Date.now() / 1000): ReplayClaim {
    if (!Number.isFinite(expiresAt)) throw new InvalidArgumentError('replay cache expiry must be a finite number');
    this.sweep(now);
    if (this.#expiry.has(id)) return 'replayed';
    if (this.#expiry.size >= this.maxEntries) return 'full';
    this.#expiry.set(id, expiresAt);
    this.#push(expiresAt, id);
    return 'claimed';
  }

  /** Forgets every id whose expiry is before `now`. */
  sweep(now: number = Date.now() / 1000): void {
    while (this.#heapAt.length > 0 && this.#heapAt[0]! < now) this.#expiry.delete(this.#pop());
  }

  #push(at: number, id: string): void {
    const times = this.#heapAt;
    const ids = this.#heapId;
    let i = times.length;
    times.push(at);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= at) break;
      times[i] = times[parent]!;
      ids[i] = ids[parent]!;
      i = parent;
    }
    times[i] = at;
    ids[i] = id;
  }

  /** Removes the entry at the top of the heap and returns its id. */
  #pop(): string {
    const times = this.#heapAt;
    const ids = this.#heapId;
    const top = ids[0]!;
    const lastAt = times.pop()!;
    const lastId = ids.pop()!;
    const n = times.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && times[child + 1]! < times[child]!) child++;
      if (times[child]! >= lastAt) break;
      times[i] = times[child]!;
      ids[i] = ids[child]!;
      i = child;
    }
    times[i] = lastAt;
    ids[i] = lastId;
    return top;
  }
}
