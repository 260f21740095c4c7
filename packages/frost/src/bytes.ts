/**
 * Byte-level helpers shared by the ciphersuite and the group backends: little-endian integer
 * encodings (the scalar encoding of RFC 9591 §6.1 is 32-byte little-endian), concatenation, equality
 * and hex. Depends on nothing else in the package, so every other module may import it.
 * @module
 */

/** Little-endian bytes → bigint, without reduction. */
export function bytesToNumberLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/**
 * bigint → `length` little-endian bytes. Throws RangeError when `n` is negative or does not fit,
 * because silently keeping the low bytes would turn an arithmetic slip into a wrong scalar.
 */
export function numberToBytesLE(n: bigint, length: number): Uint8Array {
  if (n < 0n || n >> BigInt(8 * length) !== 0n) throw new RangeError(`integer does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  let v = n;
  for (let i = 0; i < length; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** The concatenation of `parts` in a new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Byte equality. Element and scalar encodings are canonical, so equal bytes ⇔ equal values, and
 * comparing encodings avoids decoding points. No early exit: the time taken does not reveal where
 * two encodings first differ.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Lowercase hex (the form frost-rs JSON uses). */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Hex → bytes, strictly: an even number of hex digits (either case) and nothing else. Returns
 * undefined otherwise, because `Buffer.from(s, 'hex')` silently stops at the first bad character.
 *
 * The bytes are decoded straight into memory of their own (an ArrayBuffer of exactly their length),
 * never through `Buffer.from(s, 'hex')`: for short inputs that writes into Node's shared allocation
 * pool, where a decoded signing share would stay behind, and travel with any other view of the pool
 * that is posted to a worker or kept around.
 */
export function fromHexStrict(hex: string): Uint8Array | undefined {
  if (typeof hex !== 'string' || !HEX_RE.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  Buffer.from(out.buffer, 0, out.length).write(hex, 0, 'hex');
  return out;
}
