/**
 * Ed25519 signatures (R ‖ z) produced by FROST and their verification. RFC 9591 §5.3, RFC 8032 §5.1.
 * @module
 */
import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { concatBytes } from './bytes.js';
import { serializeScalar } from './ciphersuite.js';
import { MalformedInputError } from './errors.js';

/** 64-byte Ed25519 signature: R (32) ‖ z (32, little-endian). */
export class Signature {
  readonly R: Uint8Array;
  readonly z: bigint;

  constructor(R: Uint8Array, z: bigint) {
    this.R = Uint8Array.from(R);
    this.z = z;
    Object.freeze(this);
  }

  toBytes(): Uint8Array {
    return concatBytes(this.R, serializeScalar(this.z));
  }
}

const keyCache = new Map<string, KeyObject>();

/** A node:crypto KeyObject for a raw 32-byte Ed25519 public key, cached: importing one costs more than verifying. */
function ed25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== 32) throw new MalformedInputError('Ed25519 public key must be 32 bytes');
  const x = Buffer.from(publicKey).toString('base64url');
  let key = keyCache.get(x);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (keyCache.size > 1024) keyCache.clear();
    keyCache.set(x, key);
  }
  return key;
}

/**
 * Verifies a standard Ed25519 signature with node:crypto (OpenSSL), independent of this library's
 * point arithmetic. Returns false on any malformed input.
 */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return nodeVerify(null, message, ed25519PublicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
