import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  FrostError,
  Identifier,
  SignatureShare,
  decodeAny,
  keyPackageFromJson,
  keyPackageToJson,
  publicKeyPackageFromJson,
  publicKeyPackageToJson,
  signatureShareFromJson,
  signatureShareToJson,
  signingCommitmentsFromJson,
  signingCommitmentsToJson,
  signingPackageFromJson,
  signingPackageToJson,
  trustedDealerKeygen,
  toHex,
} from '../src/index.js';
import { numberToBytesLE } from '../src/bytes.js';
import { ORDER, Point, serializeScalar } from '../src/ciphersuite.js';
import { runSigning } from './helpers.js';

const dealt = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
const kp = dealt.keyPackages.get(Identifier.fromNumber(2).toHex())!;
const run = runSigning(2, 3, new TextEncoder().encode('codec'), [1, 3], dealt);
const samples = {
  KeyPackage: keyPackageToJson(kp),
  PublicKeyPackage: publicKeyPackageToJson(dealt.publicKeyPackage),
  SigningCommitments: signingCommitmentsToJson(run.pkg.commitmentsOf(Identifier.fromNumber(1))!),
  SigningPackage: signingPackageToJson(run.pkg),
  SignatureShare: signatureShareToJson(run.shares.values().next().value!),
};
const decoders: Record<keyof typeof samples, (s: string) => unknown> = {
  KeyPackage: keyPackageFromJson,
  PublicKeyPackage: publicKeyPackageFromJson,
  SigningCommitments: signingCommitmentsFromJson,
  SigningPackage: signingPackageFromJson,
  SignatureShare: signatureShareFromJson,
};
const encoders: Record<keyof typeof samples, (v: never) => unknown> = {
  KeyPackage: keyPackageToJson,
  PublicKeyPackage: publicKeyPackageToJson,
  SigningCommitments: signingCommitmentsToJson,
  SigningPackage: signingPackageToJson,
  SignatureShare: signatureShareToJson,
};
const kinds = Object.keys(samples) as (keyof typeof samples)[];

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof FrostError) return e.code;
    throw e; // anything else is a crash, not a typed rejection
  }
  return 'ACCEPTED';
}

describe('frost-rs JSON format', () => {
  it('writes the frost-rs layout: header, lowercase hex, identifier keys', () => {
    const k = samples.KeyPackage as Record<string, unknown>;
    expect(Object.keys(k)).toEqual(['header', 'identifier', 'signing_share', 'verifying_share', 'verifying_key', 'min_signers']);
    expect(k.header).toEqual({ version: 0, ciphersuite: 'FROST-ED25519-SHA512-v1' });
    expect(k.identifier).toBe('0200000000000000000000000000000000000000000000000000000000000000');
    const p = samples.PublicKeyPackage as { verifying_shares: Record<string, string> };
    expect(Object.keys(p.verifying_shares)).toEqual([1, 2, 3].map((i) => Identifier.fromNumber(i).toHex()));
    for (const v of Object.values(p.verifying_shares)) expect(v).toMatch(/^[0-9a-f]{64}$/);
    const sp = samples.SigningPackage as { signing_commitments: Record<string, unknown>; message: string };
    expect(sp.message).toBe(toHex(new TextEncoder().encode('codec')));
    expect(Object.keys(sp.signing_commitments)).toHaveLength(2);
  });

  it.each(kinds)('%s round-trips to identical JSON and is detected by decodeAny', (kind) => {
    const text = JSON.stringify(samples[kind]);
    const decoded = decoders[kind](text);
    expect(JSON.stringify(encoders[kind](decoded as never))).toBe(text);
    expect(decodeAny(text).kind).toBe(kind);
  });

  it.each(kinds)('%s: unknown field, missing field, wrong ciphersuite and version are typed errors', (kind) => {
    const base = samples[kind] as Record<string, unknown>;
    const field = Object.keys(base).find((k) => k !== 'header')!;
    expect(codeOf(() => decoders[kind](JSON.stringify({ ...base, extra: 1 })))).toBe('UNKNOWN_FIELD');
    const { [field]: _dropped, ...missing } = base;
    expect(codeOf(() => decoders[kind](JSON.stringify(missing)))).toBe('MISSING_FIELD');
    expect(codeOf(() => decoders[kind](JSON.stringify({ ...base, header: { version: 0, ciphersuite: 'FROST-RISTRETTO255-SHA512-v1' } })))).toBe('CIPHERSUITE_MISMATCH');
    expect(codeOf(() => decoders[kind](JSON.stringify({ ...base, header: { version: 1, ciphersuite: 'FROST-ED25519-SHA512-v1' } })))).toBe('UNSUPPORTED_VERSION');
    expect(codeOf(() => decoders[kind]('{not json'))).toBe('MALFORMED_INPUT');
    expect(codeOf(() => decoders[kind]('[]'))).toBe('MALFORMED_INPUT');
  });

  it('rejects a zero identifier, non-canonical scalars and invalid points', () => {
    const zeroId = '00'.repeat(32);
    expect(codeOf(() => keyPackageFromJson({ ...samples.KeyPackage, identifier: zeroId }))).toBe('INVALID_IDENTIFIER');
    const shares = (samples.PublicKeyPackage as { verifying_shares: Record<string, string> }).verifying_shares;
    const [firstId, firstShare] = Object.entries(shares)[0]!;
    const { [firstId]: _x, ...rest } = shares;
    expect(codeOf(() => publicKeyPackageFromJson({ ...samples.PublicKeyPackage, verifying_shares: { ...rest, [zeroId]: firstShare } }))).toBe('INVALID_IDENTIFIER');
    const nonCanonical = toHex(numberToBytesLE(ORDER, 32));
    expect(codeOf(() => signatureShareFromJson({ ...samples.SignatureShare, share: nonCanonical }))).toBe('INVALID_SCALAR');
    expect(codeOf(() => keyPackageFromJson({ ...samples.KeyPackage, signing_share: nonCanonical }))).toBe('INVALID_SCALAR');
    // Identity, a small-order point, a point with a torsion component, and a non-canonical y ≥ p.
    const identity = '01' + '00'.repeat(31);
    const smallOrder = 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'; // y = -1, order 2
    const nonCanonicalY = 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'; // y = p
    for (const bad of [identity, smallOrder, nonCanonicalY]) {
      expect(codeOf(() => signingCommitmentsFromJson({ ...samples.SigningCommitments, hiding: bad }))).toBe('INVALID_POINT');
    }
    expect(codeOf(() => keyPackageFromJson({ ...samples.KeyPackage, verifying_share: kpWithTorsion() }))).toBe('INVALID_POINT');
    // A key package whose share does not match its verifying share.
    const other = keyPackageToJson(dealt.keyPackages.get(Identifier.fromNumber(1).toHex())!);
    expect(codeOf(() => keyPackageFromJson({ ...samples.KeyPackage, verifying_share: other.verifying_share }))).toBe('INCONSISTENT_KEY');
  });

  it('never crashes on arbitrary JSON values or mutated documents', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const kind of kinds) expect(codeOf(() => decoders[kind](JSON.stringify(value)))).not.toBe('ACCEPTED');
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.nat(), fc.integer({ min: 1, max: 255 }), (kind, pos, flip) => {
        const text = JSON.stringify(samples[kind]);
        // Flip one hex digit somewhere in the document: rejected with a typed error, or a still-valid value.
        const hexPositions = [...text.matchAll(/[0-9a-f]{64}/g)].flatMap((m) => Array.from({ length: 64 }, (_, i) => m.index! + i));
        const p = hexPositions[pos % hexPositions.length]!;
        const c = ((parseInt(text[p]!, 16) ^ (flip & 15 || 1)) & 15).toString(16);
        const mutated = text.slice(0, p) + c + text.slice(p + 1);
        const code = codeOf(() => decoders[kind](mutated));
        expect(typeof code).toBe('string');
      }),
      { numRuns: 150 },
    );
  });

  it("decodes a key package without leaving its signing share in Node's shared Buffer pool", () => {
    const text = JSON.stringify(keyPackageToJson(kp));
    const share = serializeScalar(kp.signingShare);
    const before = Buffer.allocUnsafe(1).buffer;
    expect(keyPackageFromJson(text).signingShare).toBe(kp.signingShare);
    const after = Buffer.allocUnsafe(1).buffer;
    for (const slab of [before, after]) expect(Buffer.from(slab).indexOf(Buffer.from(share.buffer))).toBe(-1);
  });

  it('round-trips arbitrary signature shares (canonical scalars)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: ORDER - 1n }), (s) => {
        const json = JSON.stringify(signatureShareToJson(new SignatureShare(s)));
        expect(signatureShareFromJson(json).share).toBe(s);
      }),
    );
  });
});

/** A valid subgroup point plus a point of order 8: on the curve but not torsion-free. */
function kpWithTorsion(): string {
  const torsion8 = Point.fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05');
  return toHex(dealt.publicKeyPackage.verifyingKey.add(torsion8).toBytes());
}
