import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { availableBackends, group, setGroupBackend } from '../src/group.js';

const initial = group().name;
const backends = availableBackends();
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import {
  Identifier,
  SigningNonces,
  SigningPackage,
  aggregate,
  errorClasses,
  FrostError,
  round1,
  round2,
  toHex,
  trustedDealerKeygen,
  serializeScalar,
  type KeyPackage,
  type SignatureShare,
} from '../src/index.js';

const dealt = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
const keyOf = (i: number): KeyPackage => dealt.keyPackages.get(Identifier.fromNumber(i).toHex())!;
const msg = new TextEncoder().encode('round two');

describe('round2.sign refuses what a signer must refuse', () => {
  it('a second use of the same nonces', () => {
    const a = round1.commit(keyOf(1).signingShare);
    const b = round1.commit(keyOf(2).signingShare);
    const pkg = new SigningPackage([
      { identifier: Identifier.fromNumber(1), commitments: a.commitments },
      { identifier: Identifier.fromNumber(2), commitments: b.commitments },
    ], msg);
    round2.sign(pkg, a.nonces, keyOf(1));
    expect(a.nonces.used).toBe(true);
    expect(() => round2.sign(pkg, a.nonces, keyOf(1))).toThrow(expect.objectContaining({ code: 'NONCE_REUSE' }));
  });

  it('a package listing another commitment for this signer, or not listing it, or too few signers', () => {
    const a = round1.commit(keyOf(1).signingShare);
    const other = round1.commit(keyOf(1).signingShare);
    const b = round1.commit(keyOf(2).signingShare);
    const c = round1.commit(keyOf(3).signingShare);
    const wrong = new SigningPackage([
      { identifier: Identifier.fromNumber(1), commitments: other.commitments },
      { identifier: Identifier.fromNumber(2), commitments: b.commitments },
    ], msg);
    expect(() => round2.sign(wrong, a.nonces, keyOf(1))).toThrow(expect.objectContaining({ code: 'INCORRECT_COMMITMENT' }));
    const without = new SigningPackage([
      { identifier: Identifier.fromNumber(2), commitments: b.commitments },
      { identifier: Identifier.fromNumber(3), commitments: c.commitments },
    ], msg);
    expect(() => round2.sign(without, a.nonces, keyOf(1))).toThrow(expect.objectContaining({ code: 'INVALID_SIGNING_PACKAGE' }));
    const alone = new SigningPackage([{ identifier: Identifier.fromNumber(1), commitments: a.commitments }], msg);
    expect(() => round2.sign(alone, a.nonces, keyOf(1))).toThrow(expect.objectContaining({ code: 'INVALID_SIGNING_PACKAGE' }));
    expect(a.nonces.used).toBe(false); // refusals above happen before the nonces are touched
  });
});

describe('errors', () => {
  it.each(errorClasses.map((C) => [C.name, C] as const))('%s has a stable code, its name, and is a FrostError', (_n, C) => {
    const e = new C('message', { culprits: ['01'] });
    expect(e).toBeInstanceOf(FrostError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toMatch(/^[A-Z_]+$/);
    expect(e.name).toBe(C.name);
    expect(e.culprits).toEqual(['01']);
  });
  it('codes are unique', () => {
    const codes = errorClasses.map((C) => new C('x').code);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe.each(backends)('differential: this engine (%s backend) vs @noble/curves ed25519_FROST on the same randomness', (backend) => {
  beforeAll(() => setGroupBackend(backend));
  afterAll(() => setGroupBackend(initial));
  it('identical commitments, shares and signatures for random keys, messages and quorums', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }).chain((t) => fc.tuple(fc.constant(t), fc.integer({ min: t, max: 6 }))),
        fc.uint8Array({ minLength: 0, maxLength: 100 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        ([t, n], message, secretBytes) => {
          const secret = ed25519_FROST.utils.Fn.create(BigInt('0x' + toHex(secretBytes))) || 1n;
          const ours = trustedDealerKeygen({ minSigners: t, maxSigners: n, secret });
          const ids = Array.from({ length: t }, (_, i) => n - i).reverse();
          // Shares come from our dealer; noble gets the same key material in its own format.
          const pub = {
            signers: { min: t, max: n },
            commitments: [ours.publicKeyPackage.verifyingKeyBytes],
            verifyingShares: Object.fromEntries([...ours.publicKeyPackage.verifyingShares].map(([k, e]) => [k, e.verifyingShare.toBytes()])),
          };
          const randomness = ids.map(() => [crypto.getRandomValues(new Uint8Array(32)), crypto.getRandomValues(new Uint8Array(32))] as const);
          const ourNonces = ids.map((id, i) => SigningNonces.fromRandomness(ours.keyPackages.get(Identifier.fromNumber(id).toHex())!.signingShare, randomness[i]![0], randomness[i]![1]));
          const pkg = new SigningPackage(ids.map((id, i) => ({ identifier: Identifier.fromNumber(id), commitments: ourNonces[i]!.commitments })), message);
          const nobleCommitments = ids.map((id, i) => {
            const secretPkg = { identifier: Identifier.fromNumber(id).toHex(), signingShare: serializeScalar(ours.keyPackages.get(Identifier.fromNumber(id).toHex())!.signingShare) };
            const queue = [randomness[i]![0], randomness[i]![1]];
            return { secretPkg, gen: ed25519_FROST.commit(secretPkg, () => queue.shift()!) };
          });
          nobleCommitments.forEach((c, i) => {
            expect(toHex(c.gen.commitments.hiding)).toBe(toHex(ourNonces[i]!.commitments.hidingBytes));
            expect(toHex(c.gen.commitments.binding)).toBe(toHex(ourNonces[i]!.commitments.bindingBytes));
          });
          const list = nobleCommitments.map((c) => c.gen.commitments);
          const shares = new Map<string, SignatureShare>();
          const nobleShares: Record<string, Uint8Array> = {};
          ids.forEach((id, i) => {
            const key = Identifier.fromNumber(id).toHex();
            const share = round2.sign(pkg, ourNonces[i]!, ours.keyPackages.get(key)!);
            const nobleShare = ed25519_FROST.signShare(nobleCommitments[i]!.secretPkg, pub, nobleCommitments[i]!.gen.nonces, list, message);
            expect(toHex(share.toBytes())).toBe(toHex(nobleShare));
            shares.set(key, share);
            nobleShares[key] = nobleShare;
          });
          const sig = aggregate(pkg, shares, ours.publicKeyPackage).toBytes();
          expect(toHex(sig)).toBe(toHex(ed25519_FROST.aggregate(pub, list, message, nobleShares)));
        },
      ),
      { numRuns: 8 },
    );
  });
});
