/**
 * The FROST(Ed25519, SHA-512) ciphersuite: group, scalar field, hash functions H1..H5 and the
 * element/scalar encodings. RFC 9591 §6.1.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { createHash } from 'node:crypto';
import { bytesToNumberLE, numberToBytesLE } from './bytes.js';
import { InvalidPointError, InvalidScalarError } from './errors.js';
import { group } from './group.js';

/** The Edwards point type used for every group element. */
export type Element = InstanceType<typeof ed25519.Point>;
/** The point constructor (the group `G` of RFC 9591). */
export const Point = ed25519.Point;

/** Ciphersuite identifier as written in frost-rs serialization headers. */
export const CIPHERSUITE_ID = 'FROST-ED25519-SHA512-v1';
/** contextString of RFC 9591 §6.1. */
export const CONTEXT_STRING = 'FROST-ED25519-SHA512-v1';

/** Order L of the prime-order subgroup (the scalar field modulus). */
export const ORDER: bigint = Point.Fn.ORDER;
/** Encoded length of scalars and elements. */
const SCALAR_LENGTH = 32;
const ELEMENT_LENGTH = 32;

const encoder = new TextEncoder();
const PREFIX_RHO = encoder.encode(CONTEXT_STRING + 'rho');
const PREFIX_NONCE = encoder.encode(CONTEXT_STRING + 'nonce');
const PREFIX_MSG = encoder.encode(CONTEXT_STRING + 'msg');
const PREFIX_COM = encoder.encode(CONTEXT_STRING + 'com');

/** Reduces any bigint into [0, L). */
export function mod(a: bigint): bigint {
  const r = a % ORDER;
  return r < 0n ? r + ORDER : r;
}

/** Modular inverse in the scalar field (throws on zero). */
export function invert(a: bigint): bigint {
  return Point.Fn.inv(a);
}

/**
 * SHA-512 over the concatenation of `parts`. node:crypto (OpenSSL) rather than a JavaScript
 * implementation: several times faster on short inputs, and a signing hashes t + 3 times per
 * participant (figures: bench/RESULTS.md).
 */
function sha512(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function hashToScalar(...parts: Uint8Array[]): bigint {
  return mod(bytesToNumberLE(sha512(...parts)));
}

/** H1: binding factor derivation. RFC 9591 §6.1. */
export function H1(m: Uint8Array): bigint {
  return hashToScalar(PREFIX_RHO, m);
}
/** H2: challenge, plain SHA-512 (no context) so that signatures are RFC 8032 Ed25519. RFC 9591 §6.1. */
export function H2(m: Uint8Array): bigint {
  return hashToScalar(m);
}
/** H3: nonce derivation. RFC 9591 §6.1. */
export function H3(m: Uint8Array): bigint {
  return hashToScalar(PREFIX_NONCE, m);
}
/** H4: message hash for binding factors. RFC 9591 §6.1. */
export function H4(m: Uint8Array): Uint8Array {
  return sha512(PREFIX_MSG, m);
}
/** H5: commitment-list hash for binding factors. RFC 9591 §6.1. */
export function H5(m: Uint8Array): Uint8Array {
  return sha512(PREFIX_COM, m);
}

/** SerializeScalar: 32-byte little-endian. RFC 9591 §6.1. */
export function serializeScalar(s: bigint): Uint8Array {
  return numberToBytesLE(s, SCALAR_LENGTH);
}

/** DeserializeScalar: rejects wrong length and non-canonical values (≥ L). RFC 9591 §6.1. */
export function deserializeScalar(bytes: Uint8Array): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SCALAR_LENGTH) {
    throw new InvalidScalarError(`scalar must be ${SCALAR_LENGTH} bytes`);
  }
  const s = bytesToNumberLE(bytes);
  if (s >= ORDER) throw new InvalidScalarError('scalar is not canonical (not below the group order)');
  return s;
}

/** SerializeElement: RFC 8032 point compression. RFC 9591 §6.1. */
export function serializeElement(p: Element): Uint8Array {
  return p.toBytes();
}

/**
 * DeserializeElement: decodes a canonical RFC 8032 encoding and rejects the identity and any point
 * outside the prime-order subgroup (points with a torsion component). RFC 9591 §6.1.
 */
export function deserializeElement(bytes: Uint8Array): Element {
  assertValidElement(bytes);
  return Point.fromBytes(bytes, false);
}

/**
 * DeserializeElement's checks on an encoding without building a point object (fast path: the
 * active group backend). On failure the reference decoder names the reason.
 */
export function assertValidElement(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== ELEMENT_LENGTH) {
    throw new InvalidPointError(`element must be ${ELEMENT_LENGTH} bytes`);
  }
  if (group().isValidElement(bytes)) return;
  explainInvalidElement(bytes);
  throw new InvalidPointError('element is not valid');
}

function explainInvalidElement(bytes: Uint8Array): void {
  let p: Element;
  try {
    p = Point.fromBytes(bytes, false);
  } catch {
    throw new InvalidPointError('not a canonical encoding of a curve point');
  }
  if (p.is0()) throw new InvalidPointError('element is the identity');
  if (!p.isTorsionFree()) throw new InvalidPointError('element is not in the prime-order subgroup');
}

/** Fixed-base multiplication with a secret scalar (constant time in every backend). */
export function baseMulSecret(s: bigint): Element {
  return Point.fromBytes(group().baseMul(s), false);
}
