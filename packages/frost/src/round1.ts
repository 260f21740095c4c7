/**
 * Round one: nonce generation and commitments. RFC 9591 §4.1 (nonce_generate) and §5.1 (commit).
 * @module
 */
import { bytesEqual, concatBytes, toHex } from './bytes.js';
import { H3, assertValidElement, serializeScalar } from './ciphersuite.js';
import { group } from './group.js';
import { NonceReuseError } from './errors.js';
import { defaultRandom, type RandomSource } from './random.js';

/**
 * A participant's public commitments (D, E) = (G·hiding, G·binding) for one signing operation. Held
 * as encodings only: hashing and the group backends take bytes, so decoding them into point objects
 * would be wasted work.
 */
export class SigningCommitments {
  readonly hidingBytes: Uint8Array;
  readonly bindingBytes: Uint8Array;

  private constructor(hidingBytes: Uint8Array, bindingBytes: Uint8Array) {
    this.hidingBytes = hidingBytes;
    this.bindingBytes = bindingBytes;
    Object.freeze(this);
  }

  /**
   * From encodings this process computed or already validated itself: skips DeserializeElement's
   * checks, so never use it on bytes that came from elsewhere.
   */
  static fromTrustedBytes(hiding: Uint8Array, binding: Uint8Array): SigningCommitments {
    return new SigningCommitments(hiding, binding);
  }

  /** Validates both encodings as DeserializeElement does (canonical, not identity, prime-order subgroup). */
  static fromBytes(hiding: Uint8Array, binding: Uint8Array): SigningCommitments {
    assertValidElement(hiding);
    assertValidElement(binding);
    return new SigningCommitments(Uint8Array.from(hiding), Uint8Array.from(binding));
  }

  equals(other: SigningCommitments): boolean {
    return bytesEqual(this.hidingBytes, other.hidingBytes) && bytesEqual(this.bindingBytes, other.bindingBytes);
  }

  /** Stable id of this commitment pair (hex of hiding‖binding). */
  toHex(): string {
    return toHex(this.hidingBytes) + toHex(this.bindingBytes);
  }
}

/**
 * The secret nonce pair behind one {@link SigningCommitments}. Single use: {@link SigningNonces.take}
 * hands the scalars out once and then refuses, so a nonce can never sign twice through this object.
 */
export class SigningNonces {
  #hiding: bigint | undefined;
  #binding: bigint | undefined;
  readonly commitments: SigningCommitments;

  private constructor(hiding: bigint, binding: bigint) {
    this.#hiding = hiding;
    this.#binding = binding;
    this.commitments = SigningCommitments.fromTrustedBytes(group().baseMul(hiding), group().baseMul(binding));
  }

  /** Builds nonces from explicit nonce randomness (RFC 9591 test vectors); production uses {@link commit}. */
  static fromRandomness(signingShare: bigint, hidingRandomness: Uint8Array, bindingRandomness: Uint8Array): SigningNonces {
    return new SigningNonces(nonceGenerate(signingShare, hidingRandomness), nonceGenerate(signingShare, bindingRandomness));
  }

  /** True once {@link take} has been called. */
  get used(): boolean {
    return this.#hiding === undefined;
  }

  /** Returns the nonce scalars and forgets them. Throws NonceReuseError on a second call. */
  take(): { hiding: bigint; binding: bigint } {
    const hiding = this.#hiding;
    const binding = this.#binding;
    if (hiding === undefined || binding === undefined) throw new NonceReuseError('signing nonces were already used');
    this.#hiding = undefined;
    this.#binding = undefined;
    return { hiding, binding };
  }

  /** Drops the nonces without using them. */
  discard(): void {
    this.#hiding = undefined;
    this.#binding = undefined;
  }

  toJSON(): string {
    return '[redacted nonces]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'SigningNonces { [redacted] }';
  }
}

/**
 * nonce_generate: H3(random_bytes ‖ SerializeScalar(secret)). Mixing in the signing share protects
 * against a weak RNG. RFC 9591 §4.1.
 */
export function nonceGenerate(signingShare: bigint, randomBytes: Uint8Array): bigint {
  if (randomBytes.length !== 32) throw new RangeError('nonce randomness must be 32 bytes');
  return H3(concatBytes(randomBytes, serializeScalar(signingShare)));
}

/** commit: fresh hiding and binding nonces and their commitments. RFC 9591 §5.1. */
export function commit(signingShare: bigint, rng: RandomSource = defaultRandom): { nonces: SigningNonces; commitments: SigningCommitments } {
  const nonces = SigningNonces.fromRandomness(signingShare, rng(32), rng(32));
  return { nonces, commitments: nonces.commitments };
}
