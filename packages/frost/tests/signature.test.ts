import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign } from 'node:crypto';
import { toHex } from '../src/bytes.js';
import { ORDER } from '../src/ciphersuite.js';
import { Signature, verifyEd25519 } from '../src/signature.js';

/** A standard Ed25519 key pair and its raw 32-byte public key, from node:crypto. */
function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return { privateKey, raw: new Uint8Array(raw) };
}

describe('Signature (RFC 9591 §5.3: (R, z) encoded as RFC 8032 R ‖ z)', () => {
  it('encodes R then z as 32-byte little-endian', () => {
    const R = new Uint8Array(32).fill(7);
    const bytes = new Signature(R, 0x0102n).toBytes();
    expect(bytes).toHaveLength(64);
    expect(toHex(bytes)).toBe('07'.repeat(32) + '0201' + '00'.repeat(30));
  });

  it('keeps its own copy of R and cannot be modified', () => {
    const R = new Uint8Array(32).fill(1);
    const sig = new Signature(R, ORDER - 1n);
    R[0] = 9;
    expect(sig.R[0]).toBe(1);
    expect(Object.isFrozen(sig)).toBe(true);
  });
});

describe('verifyEd25519', () => {
  const { privateKey, raw } = keyPair();
  const message = new TextEncoder().encode('verify me');
  const signature = new Uint8Array(sign(null, message, privateKey));

  it('accepts a standard Ed25519 signature and refuses a changed message, signature or key', () => {
    expect(verifyEd25519(raw, message, signature)).toBe(true);
    expect(verifyEd25519(raw, new TextEncoder().encode('verify mE'), signature)).toBe(false);
    const flipped = Uint8Array.from(signature);
    flipped[40]! ^= 1;
    expect(verifyEd25519(raw, message, flipped)).toBe(false);
    expect(verifyEd25519(keyPair().raw, message, signature)).toBe(false);
  });

  it('returns false rather than throwing on malformed input', () => {
    expect(verifyEd25519(raw, message, signature.subarray(0, 63))).toBe(false);
    expect(verifyEd25519(raw.subarray(0, 31), message, signature)).toBe(false);
    expect(verifyEd25519(new Uint8Array(32), message, signature)).toBe(false);
    expect(verifyEd25519(raw, message, 'not bytes' as unknown as Uint8Array)).toBe(false);
  });

  it('gives the same answer for the same key many times over (the key object cache)', () => {
    for (let i = 0; i < 3; i++) expect(verifyEd25519(raw, message, signature)).toBe(true);
    // Enough distinct keys to overflow the cache, then the first key again.
    for (let i = 0; i < 1030; i++) verifyEd25519(Uint8Array.from(raw.map((b, j) => (j === 0 ? b ^ (i & 0xff) : j === 1 ? b ^ (i >> 8) : b))), message, signature);
    expect(verifyEd25519(raw, message, signature)).toBe(true);
  });
});
