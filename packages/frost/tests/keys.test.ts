import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { toHex } from '../src/bytes.js';
import { Point, mod, serializeScalar } from '../src/ciphersuite.js';
import { Identifier } from '../src/identifier.js';
import {
  KeyPackage,
  MAX_SIGNERS,
  MIN_THRESHOLD,
  PublicKeyPackage,
  assertParticipantsInKeySet,
  inferMinSigners,
  trustedDealerKeygen,
  validateThreshold,
  type VerifyingShareEntry,
} from '../src/keys.js';
import { deriveInterpolatingValue } from '../src/polynomial.js';
import { commit } from '../src/round1.js';
import { SigningPackage } from '../src/signing-package.js';
import { codeOf } from './helpers.js';

const id = (n: number): Identifier => Identifier.fromNumber(n);
const secret = 0x1234567890abcdefn;
const dealt = trustedDealerKeygen({ minSigners: 3, maxSigners: 5, secret });
const pkp = dealt.publicKeyPackage;
const kp = (n: number): KeyPackage => dealt.keyPackages.get(id(n).toHex())!;
const entries = (): VerifyingShareEntry[] => [...pkp.verifyingShares.values()];

describe('validateThreshold', () => {
  it('accepts 2 ≤ t ≤ n ≤ 65535 and refuses everything else', () => {
    expect(() => validateThreshold(MIN_THRESHOLD, MIN_THRESHOLD)).not.toThrow();
    expect(() => validateThreshold(3, MAX_SIGNERS)).not.toThrow();
    for (const [t, n] of [[1, 3], [4, 3], [2, 1], [2, MAX_SIGNERS + 1], [2.5, 3], [2, Number.NaN]] as const) {
      expect(codeOf(() => validateThreshold(t, n))).toBe('INVALID_PARAMETERS');
    }
  });
});

describe('trustedDealerKeygen (RFC 9591 Appendix C)', () => {
  it('shares the secret so that any t shares, and no fewer, interpolate to it', () => {
    expect(toHex(pkp.verifyingKeyBytes)).toBe(toHex(Point.BASE.multiply(secret).toBytes()));
    const recover = (ns: number[]): bigint => {
      const xs = ns.map((n) => BigInt(n));
      return ns.reduce((acc, n) => mod(acc + deriveInterpolatingValue(xs, BigInt(n)) * kp(n).signingShare), 0n);
    };
    for (const quorum of [[1, 2, 3], [2, 4, 5], [1, 3, 5]]) expect(recover(quorum)).toBe(secret);
    expect(recover([1, 2])).not.toBe(secret);
  });

  it('outputs one key package per identifier, ascending, each matching the public key package', () => {
    expect([...dealt.keyPackages.keys()]).toEqual([1, 2, 3, 4, 5].map((n) => id(n).toHex()));
    for (const k of dealt.keyPackages.values()) {
      expect(k.minSigners).toBe(3);
      expect(() => k.assertMatches(pkp)).not.toThrow();
    }
    expect(() => pkp.assertConsistent()).not.toThrow();
  });

  it('uses the given identifiers, and refuses duplicates, a wrong count, a zero secret and bad thresholds', () => {
    const custom = trustedDealerKeygen({ minSigners: 2, maxSigners: 2, identifiers: [id(900), id(7)] });
    expect(custom.publicKeyPackage.identifiers.map((i) => i.value)).toEqual([7n, 900n]);
    expect(codeOf(() => trustedDealerKeygen({ minSigners: 2, maxSigners: 2, identifiers: [id(7), id(7)] }))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => trustedDealerKeygen({ minSigners: 2, maxSigners: 3, identifiers: [id(1), id(2)] }))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => trustedDealerKeygen({ minSigners: 2, maxSigners: 3, secret: 0n }))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => trustedDealerKeygen({ minSigners: 4, maxSigners: 3 }))).toBe('INVALID_PARAMETERS');
  });
});

describe('KeyPackage', () => {
  const args = () => ({ identifier: id(1), signingShare: kp(1).signingShare, verifyingShare: kp(1).verifyingShare, verifyingKey: pkp.verifyingKey, minSigners: 3 });

  it('refuses a signing share that does not match the verifying share, or is zero', () => {
    expect(() => new KeyPackage(args())).not.toThrow();
    expect(codeOf(() => new KeyPackage({ ...args(), verifyingShare: kp(2).verifyingShare }))).toBe('INCONSISTENT_KEY');
    expect(codeOf(() => new KeyPackage({ ...args(), signingShare: kp(2).signingShare }))).toBe('INCONSISTENT_KEY');
    expect(codeOf(() => new KeyPackage({ ...args(), signingShare: 0n, verifyingShare: Point.ZERO }))).toBe('INCONSISTENT_KEY');
  });

  it('refuses a threshold outside 2..65535', () => {
    for (const minSigners of [1, 65536, 2.5]) expect(codeOf(() => new KeyPackage({ ...args(), minSigners }))).toBe('INVALID_PARAMETERS');
  });

  it('assertMatches refuses another key set, another threshold, or a share the key set does not list', () => {
    const other = trustedDealerKeygen({ minSigners: 3, maxSigners: 5 }).publicKeyPackage;
    expect(codeOf(() => kp(1).assertMatches(other))).toBe('INCONSISTENT_KEY');
    const sameKeyOtherThreshold = new PublicKeyPackage({ verifyingShares: entries(), verifyingKey: pkp.verifyingKey, minSigners: 2 });
    expect(codeOf(() => kp(1).assertMatches(sameKeyOtherThreshold))).toBe('INCONSISTENT_KEY');
    const withoutOne = new PublicKeyPackage({ verifyingShares: entries().slice(1), verifyingKey: pkp.verifyingKey, minSigners: 3 });
    expect(codeOf(() => kp(1).assertMatches(withoutOne))).toBe('INCONSISTENT_KEY');
  });

  it('never shows the signing share in JSON or util.inspect', () => {
    const shareHex = toHex(serializeScalar(kp(1).signingShare));
    const shown = JSON.stringify(kp(1)) + inspect(kp(1));
    expect(shown).not.toContain(shareHex);
    expect(shown).not.toContain(kp(1).signingShare.toString());
    expect(shown).toContain('redacted');
  });
});

describe('PublicKeyPackage', () => {
  it('orders verifying shares by identifier and refuses duplicates and thresholds the shares cannot meet', () => {
    const shuffled = new PublicKeyPackage({ verifyingShares: [...entries()].reverse(), verifyingKey: pkp.verifyingKey, minSigners: 3 });
    expect(shuffled.identifiers.map((i) => i.value)).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(shuffled.maxSigners).toBe(5);
    expect(codeOf(() => new PublicKeyPackage({ verifyingShares: [...entries(), entries()[0]!], verifyingKey: pkp.verifyingKey, minSigners: 3 }))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => new PublicKeyPackage({ verifyingShares: entries(), verifyingKey: pkp.verifyingKey, minSigners: 6 }))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => new PublicKeyPackage({ verifyingShares: entries(), verifyingKey: pkp.verifyingKey, minSigners: 1 }))).toBe('INVALID_PARAMETERS');
  });

  it('assertConsistent names a verifying share off the key polynomial, and refuses a foreign verifying key', () => {
    const tampered = entries().map((e) => (e.identifier.value === 4n ? { ...e, verifyingShare: e.verifyingShare.add(Point.BASE) } : e));
    const bad = new PublicKeyPackage({ verifyingShares: tampered, verifyingKey: pkp.verifyingKey, minSigners: 3 });
    let error: unknown;
    try {
      bad.assertConsistent();
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'INCONSISTENT_KEY', culprits: [id(4).toHex()] });
    const wrongKey = new PublicKeyPackage({ verifyingShares: entries(), verifyingKey: pkp.verifyingKey.add(Point.BASE), minSigners: 3 });
    expect(codeOf(() => wrongKey.assertConsistent())).toBe('INCONSISTENT_KEY');
  });

  it('verifyingShareOf and verifyingShareBytesOf answer for members and refuse strangers', () => {
    expect(pkp.verifyingShareOf(id(2)).equals(kp(2).verifyingShare)).toBe(true);
    expect(toHex(pkp.verifyingShareBytesOf(id(2)))).toBe(toHex(kp(2).verifyingShare.toBytes()));
    expect(codeOf(() => pkp.verifyingShareOf(id(6)))).toBe('UNKNOWN_IDENTIFIER');
    expect(codeOf(() => pkp.verifyingShareBytesOf(id(6)))).toBe('UNKNOWN_IDENTIFIER');
  });
});

describe('inferMinSigners', () => {
  it('recovers the threshold of a key set from its verifying shares', () => {
    expect(inferMinSigners(entries(), pkp.verifyingKey)).toBe(3);
    const twoOfFour = trustedDealerKeygen({ minSigners: 2, maxSigners: 4 }).publicKeyPackage;
    expect(inferMinSigners([...twoOfFour.verifyingShares.values()], twoOfFour.verifyingKey)).toBe(2);
  });

  it('refuses shares that lie on no polynomial through the verifying key', () => {
    expect(codeOf(() => inferMinSigners(entries(), pkp.verifyingKey.add(Point.BASE)))).toBe('INCONSISTENT_KEY');
  });
});

describe('assertParticipantsInKeySet', () => {
  const pkgOf = (ns: number[]): SigningPackage => new SigningPackage(ns.map((n) => ({ identifier: id(n), commitments: commit(BigInt(n)).commitments })), new Uint8Array(0));

  it('accepts a package whose participants all belong to the key set', () => {
    expect(() => assertParticipantsInKeySet(pkgOf([1, 3, 5]), pkp)).not.toThrow();
    expect(() => assertParticipantsInKeySet(pkgOf([1, 2, 3, 4, 5]), pkp)).not.toThrow();
  });

  it('names every participant outside the key set, in ascending order', () => {
    let error: unknown;
    try {
      assertParticipantsInKeySet(pkgOf([9, 1, 300, 2]), pkp);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'UNKNOWN_IDENTIFIER', culprits: [id(9).toHex(), id(300).toHex()] });
  });
});
