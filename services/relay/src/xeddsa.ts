/**
 * XEdDSA over Curve25519 (Signal's XEdDSA specification, section 3 with the X25519 / Ed25519 pair): the
 * login signature of frostd's API. A client signs the 16 raw bytes of its challenge UUID with its X25519
 * key; the relay turns the X25519 public key into the Edwards point with sign bit 0 (section 2.3,
 * `convert_mont`) and checks a plain Ed25519 signature under it (RFC 8032, verified by node:crypto).
 *
 * Signing lives here too because the relay's own clients (tests, frostctl, the bench) log in with it;
 * the relay itself only verifies.
 * @module
 */
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';

const Point = ed25519.Point;
const Fp = Point.Fp;
const Fn = Point.Fn;

/** Length of an X25519 public or private key and of the Edwards encoding. */
export const KEY_BYTES = 32;
/** Length of an XEdDSA signature (R ‖ s). */
export const SIGNATURE_BYTES = 64;

const leToBigint = (b: Uint8Array): bigint => {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
};
const bigintToLe = (n: bigint, length = 32): Uint8Array => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
};

/**
 * The Edwards encoding (y with sign bit 0) of the X25519 public key `u`, or undefined when `u` has no
 * Edwards form (u = −1). As in the reference implementations, the top bit of `u` is ignored and a value
 * at or above p is taken modulo p.
 */
export function montgomeryToEdwards(u: Uint8Array): Uint8Array | undefined {
  if (u.length !== KEY_BYTES) return undefined;
  const masked = Uint8Array.from(u);
  masked[31]! &= 0x7f;
  const uf = Fp.create(leToBigint(masked));
  const denominator = Fp.add(uf, Fp.ONE);
  if (Fp.is0(denominator)) return undefined;
  // y = (u − 1) / (u + 1); y < p < 2^255, so the sign bit (bit 255) is 0.
  return bigintToLe(Fp.mul(Fp.sub(uf, Fp.ONE), Fp.inv(denominator)));
}

/**
 * Whether `signature` is an XEdDSA signature of `message` by the holder of the X25519 key `publicKey`.
 * False for malformed lengths, keys without an Edwards form, keys of small order (anyone can sign for
 * those) and every invalid signature; never throws.
 */
export function xeddsaVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  const edwards = montgomeryToEdwards(publicKey);
  if (!edwards) return false;
  try {
    if (Point.fromBytes(edwards).isSmallOrder()) return false;
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(edwards).toString('base64url') }, format: 'jwk' });
    return verify(null, message, key, signature);
  } catch {
    // Not a point on the curve.
    return false;
  }
}

/** hash_1 of the XEdDSA specification: SHA-512 of (2^256 − 2) as 32 little-endian bytes, then the input. */
const HASH1_PREFIX = Uint8Array.from([0xfe, ...new Array<number>(31).fill(0xff)]);
const sha512 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/**
 * XEdDSA signature of `message` with the X25519 private key `privateKey` (section 3.3): the Edwards key
 * pair with sign bit 0 (`calculate_key_pair`), a nonce from hash_1 over the key, the message and 64
 * random bytes, then R ‖ s as in Ed25519.
 */
export function xeddsaSign(privateKey: Uint8Array, message: Uint8Array, random: Uint8Array = randomBytes(64)): Uint8Array {
  if (privateKey.length !== KEY_BYTES) throw new RangeError('an X25519 private key has 32 bytes');
  if (random.length !== 64) throw new RangeError('XEdDSA takes 64 random bytes');
  const clamped = Uint8Array.from(privateKey);
  clamped[0]! &= 248;
  clamped[31]! &= 127;
  clamped[31]! |= 64;
  let a = Fn.create(leToBigint(clamped));
  let A = Point.BASE.multiply(a);
  if ((A.toBytes()[31]! & 0x80) !== 0) {
    a = Fn.neg(a);
    A = A.negate();
  }
  const aBytes = bigintToLe(a);
  const r = Fn.create(leToBigint(sha512(HASH1_PREFIX, aBytes, message, random)));
  const R = Point.BASE.multiply(r).toBytes();
  const h = Fn.create(leToBigint(sha512(R, A.toBytes(), message)));
  const s = Fn.add(r, Fn.mul(h, a));
  const out = new Uint8Array(SIGNATURE_BYTES);
  out.set(R, 0);
  out.set(bigintToLe(s), 32);
  return out;
}

/** A fresh X25519 key pair (the same kind of key frost-client's `init` generates). */
export function generateX25519KeyPair(): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const privateKey = new Uint8Array(randomBytes(KEY_BYTES));
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

/** The X25519 public key of `privateKey`. */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(privateKey);
}
