// RFC 9591 Appendix E.1 test vector for FROST(Ed25519, SHA-512), reproduced byte for byte.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  Identifier,
  SigningPackage,
  SignatureShare,
  aggregate,
  computeSigningContext,
  fromHexStrict,
  round2,
  toHex,
  trustedDealerKeygen,
  verifyEd25519,
  SigningNonces,
  type KeyPackage,
} from '../src/index.js';
import { concatBytes, numberToBytesLE } from '../src/bytes.js';
import { H4, H5, deserializeScalar } from '../src/ciphersuite.js';
import { availableBackends, group, setGroupBackend } from '../src/group.js';
import { encodeGroupCommitmentList } from '../src/signing-context.js';

const initial = group().name;
const backends = availableBackends();

interface Vector {
  threshold: number;
  signers: number;
  groupSecretKey: string;
  groupPublicKey: string;
  messageHex: string;
  polynomialCoefficients: string[];
  shares: Record<string, string>;
  participants: number[];
  round1: Record<string, Record<string, string>>;
  round2: Record<string, string>;
  signature: string;
}

const v = JSON.parse(readFileSync(new URL('./fixtures/rfc9591-ed25519.json', import.meta.url), 'utf8')) as Vector;
const hex = (s: string): Uint8Array => fromHexStrict(s)!;
const scalar = (s: string): bigint => deserializeScalar(hex(s));

/** An RNG that returns the vector's polynomial coefficients as 64-byte little-endian values. */
function coefficientRng(coefficients: bigint[]): (n: number) => Uint8Array {
  const queue = [...coefficients];
  return (n) => {
    if (n !== 64 || queue.length === 0) throw new Error('unexpected randomness request');
    return numberToBytesLE(queue.shift()!, 64);
  };
}

describe.each(backends)('RFC 9591 Appendix E.1 FROST(Ed25519, SHA-512), %s backend', (backend) => {
  beforeAll(() => setGroupBackend(backend));
  afterAll(() => setGroupBackend(initial));
  const dealt = trustedDealerKeygen({
    minSigners: v.threshold,
    maxSigners: v.signers,
    secret: scalar(v.groupSecretKey),
    rng: coefficientRng(v.polynomialCoefficients.map(scalar)),
  });
  const msg = hex(v.messageHex);
  const keyOf = (i: number): KeyPackage => dealt.keyPackages.get(Identifier.fromNumber(i).toHex())!;

  it('derives the group public key and every participant share', () => {
    expect(toHex(dealt.publicKeyPackage.verifyingKeyBytes)).toBe(v.groupPublicKey);
    for (const [id, share] of Object.entries(v.shares)) {
      expect(toHex(numberToBytesLE(keyOf(Number(id)).signingShare, 32))).toBe(share);
    }
    dealt.publicKeyPackage.assertConsistent();
  });

  const nonces = new Map<number, SigningNonces>();
  for (const id of v.participants) {
    const r = v.round1[String(id)]!;
    nonces.set(id, SigningNonces.fromRandomness(keyOf(id).signingShare, hex(r.hiding_nonce_randomness!), hex(r.binding_nonce_randomness!)));
  }
  const pkg = new SigningPackage(
    v.participants.map((id) => ({ identifier: Identifier.fromNumber(id), commitments: nonces.get(id)!.commitments })),
    msg,
  );

  it('reproduces the nonce commitments', () => {
    for (const id of v.participants) {
      const r = v.round1[String(id)]!;
      const c = nonces.get(id)!.commitments;
      expect(toHex(c.hidingBytes)).toBe(r.hiding_nonce_commitment);
      expect(toHex(c.bindingBytes)).toBe(r.binding_nonce_commitment);
    }
  });

  it('reproduces the binding factor inputs and binding factors', () => {
    const prefix = concatBytes(dealt.publicKeyPackage.verifyingKeyBytes, H4(msg), H5(encodeGroupCommitmentList(pkg)));
    const ctx = computeSigningContext(pkg, dealt.publicKeyPackage.verifyingKeyBytes);
    for (const id of v.participants) {
      const r = v.round1[String(id)]!;
      const identifier = Identifier.fromNumber(id);
      expect(toHex(concatBytes(prefix, identifier.toBytes()))).toBe(r.binding_factor_input);
      expect(toHex(numberToBytesLE(ctx.bindingFactors.get(identifier.toHex())!, 32))).toBe(r.binding_factor);
    }
  });

  it('reproduces the signature shares and the final signature, which node:crypto accepts', () => {
    const shares = new Map<string, SignatureShare>();
    for (const id of v.participants) {
      const share = round2.sign(pkg, nonces.get(id)!, keyOf(id));
      expect(toHex(share.toBytes())).toBe(v.round2[String(id)]);
      shares.set(Identifier.fromNumber(id).toHex(), share);
    }
    const sig = aggregate(pkg, shares, dealt.publicKeyPackage).toBytes();
    expect(toHex(sig)).toBe(v.signature);
    expect(verifyEd25519(dealt.publicKeyPackage.verifyingKeyBytes, msg, sig)).toBe(true);
  });

  it('nonce scalars match the vector', () => {
    // The nonces are private to SigningNonces; recompute them through nonce_generate.
    for (const id of v.participants) {
      const r = v.round1[String(id)]!;
      const fresh = SigningNonces.fromRandomness(keyOf(id).signingShare, hex(r.hiding_nonce_randomness!), hex(r.binding_nonce_randomness!));
      const { hiding, binding } = fresh.take();
      expect(toHex(numberToBytesLE(hiding, 32))).toBe(r.hiding_nonce);
      expect(toHex(numberToBytesLE(binding, 32))).toBe(r.binding_nonce);
    }
  });
});
