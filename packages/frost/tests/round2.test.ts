import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import {
  IdentityCommitmentError,
  Identifier,
  SignatureShare,
  SigningNonces,
  SigningPackage,
  aggregate,
  computeBindingFactors,
  computeOthersTerm,
  computeSigningContext,
  round1,
  round2,
  serializeScalar,
  toHex,
  trustedDealerKeygen,
  type KeyPackage,
} from '../src/index.js';
import { ORDER, Point } from '../src/ciphersuite.js';
import { availableBackends, group, setGroupBackend } from '../src/group.js';

const initial = group().name;
const backends = availableBackends();
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

describe('round2.sign with work done ahead', () => {
  it('gives the same share with a precomputed context or a prepared public part as without', () => {
    const vk = dealt.publicKeyPackage.verifyingKeyBytes;
    // Nonces from fixed randomness, so three signings of one package use the same nonce pair.
    const nonces = (): SigningNonces => SigningNonces.fromRandomness(keyOf(1).signingShare, new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
    const [n1, n2, n3] = [nonces(), nonces(), nonces()];
    const pkg = new SigningPackage([
      { identifier: Identifier.fromNumber(1), commitments: n1.commitments },
      { identifier: Identifier.fromNumber(3), commitments: round1.commit(keyOf(3).signingShare).commitments },
    ], msg);
    const plain = round2.sign(pkg, n1, keyOf(1));
    const withContext = round2.sign(pkg, n2, keyOf(1), computeSigningContext(pkg, vk));
    const bindingFactors = computeBindingFactors(pkg, vk);
    const prepared = { bindingFactors, othersTerm: computeOthersTerm(pkg, bindingFactors, Identifier.fromNumber(1)) };
    const withPrepared = round2.sign(pkg, n3, keyOf(1), undefined, prepared);
    expect(withContext.share).toBe(plain.share);
    expect(withPrepared.share).toBe(plain.share);
    // The R hint each share carries is the package's group commitment, however it was computed.
    const R = toHex(computeSigningContext(pkg, vk).groupCommitmentBytes);
    for (const s of [plain, withContext, withPrepared]) expect(toHex(s.groupCommitment!)).toBe(R);
  });
});

describe('round2.sign refuses a group commitment equal to the identity (as frost-rs does)', () => {
  const vk = dealt.publicKeyPackage.verifyingKeyBytes;
  const [r1, r2] = [new Uint8Array(32).fill(3), new Uint8Array(32).fill(4)];
  /** Signer 1's nonces from fixed randomness (so the test knows d and e), in a package with signer 3. */
  function setup() {
    const nonces = SigningNonces.fromRandomness(keyOf(1).signingShare, r1, r2);
    const pkg = new SigningPackage([
      { identifier: Identifier.fromNumber(1), commitments: nonces.commitments },
      { identifier: Identifier.fromNumber(3), commitments: round1.commit(keyOf(3).signingShare).commitments },
    ], msg);
    return { nonces, pkg };
  }

  it.each(backends)('when the prepared part of R cancels this signer\'s own term (%s backend)', (backend) => {
    setGroupBackend(backend);
    try {
      const { nonces, pkg } = setup();
      const bindingFactors = computeBindingFactors(pkg, vk);
      const d = round1.nonceGenerate(keyOf(1).signingShare, r1);
      const e = round1.nonceGenerate(keyOf(1).signingShare, r2);
      const own = (d + bindingFactors.get(Identifier.fromNumber(1).toHex())! * e) % ORDER;
      // The others' part as −[d + ρe]B, so that R = Σ is the identity.
      const othersTerm = Point.BASE.multiply(ORDER - own).toBytes();
      expect(() => round2.sign(pkg, nonces, keyOf(1), undefined, { bindingFactors, othersTerm })).toThrow(IdentityCommitmentError);
      expect(nonces.used).toBe(true); // claimed: never offered again
    } finally {
      setGroupBackend(initial);
    }
  });

  it('when a precomputed context carries the identity, with the stable code IDENTITY_COMMITMENT', () => {
    const { nonces, pkg } = setup();
    const ctx = { ...computeSigningContext(pkg, vk), groupCommitmentBytes: Uint8Array.from([1, ...new Array<number>(31).fill(0)]) };
    expect(() => round2.sign(pkg, nonces, keyOf(1), ctx)).toThrow(expect.objectContaining({ code: 'IDENTITY_COMMITMENT', name: 'IdentityCommitmentError' }));
    // The same package with its true context signs.
    const { nonces: fresh } = setup();
    expect(round2.sign(pkg, fresh, keyOf(1), computeSigningContext(pkg, vk)).share).toBeGreaterThan(0n);
  });
});

describe('SignatureShare', () => {
  it('encodes z as a 32-byte little-endian scalar and decodes it back, keeping the R hint', () => {
    const share = new SignatureShare(0x0102n);
    expect(toHex(share.toBytes())).toBe('0201' + '00'.repeat(30));
    const hint = new Uint8Array(32).fill(9);
    const back = SignatureShare.fromBytes(share.toBytes(), hint);
    expect(back.share).toBe(0x0102n);
    expect(back.groupCommitment).toBe(hint);
    expect(Object.isFrozen(back)).toBe(true);
  });

  it('refuses a non-canonical scalar (z ≥ L) and a wrong length', () => {
    expect(() => SignatureShare.fromBytes(serializeScalar(ORDER - 1n))).not.toThrow();
    expect(() => SignatureShare.fromBytes(serializeScalar(ORDER))).toThrow(expect.objectContaining({ code: 'INVALID_SCALAR' }));
    expect(() => SignatureShare.fromBytes(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'INVALID_SCALAR' }));
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
