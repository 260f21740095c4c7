/**
 * Round-one nonces, kept only in this process's memory and handed out at most once.
 *
 * Entries are keyed by their commitment (hiding ‖ binding, hex), so a signing package names the nonce
 * it wants by the commitment it lists for this signer. `claim` removes the entry synchronously before
 * returning it: two requests for one commitment can never both get it, on one event loop. The store
 * is bounded in count (oldest evicted first) and age; recently consumed ids are remembered (bounded)
 * so a reuse attempt gets a precise error.
 * @module
 */
import { toHex, type SigningNonces } from '@hoarfrost/frost';

/** The id a nonce is stored under: hex of its commitment, hiding ‖ binding (the only place it is built). */
export function commitmentId(hiding: Uint8Array, binding: Uint8Array): string {
  return toHex(hiding) + toHex(binding);
}

interface Entry {
  keyId: string;
  nonces: SigningNonces;
  expiresAt: number;
}

export type ClaimFailure = 'UNKNOWN_COMMITMENT' | 'COMMITMENT_ALREADY_USED' | 'COMMITMENT_EXPIRED' | 'COMMITMENT_KEY_MISMATCH';
type Tombstone = 'used' | 'expired' | 'evicted';

export class NonceStore {
  readonly #entries = new Map<string, Entry>();
  readonly #tombstones = new Map<string, Tombstone>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Called with the reason whenever an entry leaves without being used. */
  onDrop: (reason: 'expired' | 'evicted') => void = () => {};

  constructor(options: { max: number; ttlMs: number; now?: () => number }) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError('max must be a positive integer');
    if (!(options.ttlMs > 0)) throw new RangeError('ttlMs must be positive');
    this.#max = options.max;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** Stores fresh nonces under their commitment id, evicting expired then oldest entries to stay bounded. */
  add(keyId: string, nonces: SigningNonces): string {
    const id = commitmentId(nonces.commitments.hidingBytes, nonces.commitments.bindingBytes);
    this.sweep();
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#drop(oldest, 'evicted');
    }
    this.#entries.set(id, { keyId, nonces, expiresAt: this.#now() + this.#ttlMs });
    return id;
  }

  /**
   * Atomically removes and returns the nonces for `commitmentId`. Any claim attempt on an existing
   * entry consumes it (even if the key id does not match), so a nonce is never offered twice.
   */
  claim(commitmentId: string, keyId: string): { nonces: SigningNonces } | { error: ClaimFailure } {
    const entry = this.#entries.get(commitmentId);
    if (!entry) {
      const t = this.#tombstones.get(commitmentId);
      if (t === 'used') return { error: 'COMMITMENT_ALREADY_USED' };
      if (t === 'expired' || t === 'evicted') return { error: 'COMMITMENT_EXPIRED' };
      return { error: 'UNKNOWN_COMMITMENT' };
    }
    if (entry.expiresAt <= this.#now()) {
      // Expired before a sweep came by: dropped unused, exactly as the sweep would have.
      this.#drop(commitmentId, 'expired');
      return { error: 'COMMITMENT_EXPIRED' };
    }
    this.#entries.delete(commitmentId);
    this.#remember(commitmentId, 'used');
    if (entry.keyId !== keyId) {
      entry.nonces.discard();
      return { error: 'COMMITMENT_KEY_MISMATCH' };
    }
    return { nonces: entry.nonces };
  }

  /** Drops expired entries (insertion order = expiry order, so stop at the first live one). */
  sweep(): void {
    const now = this.#now();
    for (const [id, e] of this.#entries) {
      if (e.expiresAt > now) break;
      this.#drop(id, 'expired');
    }
  }

  /** Forgets every nonce (shutdown). */
  clear(): void {
    for (const e of this.#entries.values()) e.nonces.discard();
    this.#entries.clear();
  }

  #drop(id: string, reason: 'expired' | 'evicted'): void {
    const e = this.#entries.get(id);
    if (!e) return;
    e.nonces.discard();
    this.#entries.delete(id);
    this.#remember(id, reason);
    this.onDrop(reason);
  }

  #remember(id: string, t: Tombstone): void {
    this.#tombstones.set(id, t);
    if (this.#tombstones.size > this.#max * 2) {
      const oldest = this.#tombstones.keys().next().value as string;
      this.#tombstones.delete(oldest);
    }
  }
}
