/**
 * Participant identifiers: non-zero scalars. RFC 9591 §3.1 / §4.
 * @module
 */
import { bytesToNumberLE, fromHexStrict, toHex } from './bytes.js';
import { ORDER, serializeScalar } from './ciphersuite.js';
import { InvalidIdentifierError } from './errors.js';

/** Largest identifier accepted by {@link Identifier.fromNumber} (frost-rs uses u16). */
export const MAX_NUMERIC_IDENTIFIER = 65535;

/**
 * A participant identifier: a non-zero element of the scalar field. Serialized as the 32-byte
 * little-endian scalar (frost-rs JSON uses its lowercase hex as map keys).
 */
export class Identifier {
  /** The scalar value, 1 ≤ value < L. */
  readonly value: bigint;
  readonly #hex: string;

  private constructor(value: bigint) {
    this.value = value;
    this.#hex = toHex(serializeScalar(value));
  }

  /** Identifier from a participant number 1..65535 (the usual numbering of trusted-dealer keys). */
  static fromNumber(n: number): Identifier {
    if (!Number.isInteger(n) || n < 1 || n > MAX_NUMERIC_IDENTIFIER) {
      throw new InvalidIdentifierError(`identifier must be an integer between 1 and ${MAX_NUMERIC_IDENTIFIER}`);
    }
    return new Identifier(BigInt(n));
  }

  /** Identifier from its 32-byte little-endian scalar encoding; rejects zero and non-canonical values. */
  static fromBytes(bytes: Uint8Array): Identifier {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
      throw new InvalidIdentifierError('identifier must be 32 bytes');
    }
    const v = bytesToNumberLE(bytes);
    if (v === 0n) throw new InvalidIdentifierError('identifier must not be zero');
    if (v >= ORDER) throw new InvalidIdentifierError('identifier is not a canonical scalar');
    return new Identifier(v);
  }

  /** Identifier from 64 hex characters (the frost-rs JSON form). */
  static fromHex(hex: string): Identifier {
    const bytes = typeof hex === 'string' && hex.length === 64 ? fromHexStrict(hex) : undefined;
    if (!bytes) throw new InvalidIdentifierError('identifier must be 64 hex characters');
    return Identifier.fromBytes(bytes);
  }

  /** 32-byte little-endian encoding (SerializeScalar). */
  toBytes(): Uint8Array {
    return serializeScalar(this.value);
  }

  /** Lowercase hex of the encoding; the canonical map key. */
  toHex(): string {
    return this.#hex;
  }

  /** The participant number if the identifier is a small integer, else undefined. */
  toNumber(): number | undefined {
    return this.value <= BigInt(MAX_NUMERIC_IDENTIFIER) ? Number(this.value) : undefined;
  }

  equals(other: Identifier): boolean {
    return this.value === other.value;
  }

  /** Orders identifiers by scalar value, as RFC 9591 requires for commitment lists. */
  static compare(a: Identifier, b: Identifier): number {
    return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  }

  toString(): string {
    const n = this.toNumber();
    return n === undefined ? this.#hex : String(n);
  }
}
