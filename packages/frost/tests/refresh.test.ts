// Share refresh with a DKG (refreshDkgPart1/2, refreshDkgShares): same group key, new shares, fewer
// participants allowed (never below the threshold), old and new shares do not mix, refusals named.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  DkgRound1Package,
  DkgRound2Package,
  FrostError,
  Identifier,
  InvalidSignatureShareError,
  dkg,
  publicKeyPackageToJson,
  refreshDkgPart1,
  refreshDkgPart2,
  refreshDkgShares,
  toHex,
  trustedDealerKeygen,
  verifyEd25519,
  type KeyPackage,
  type PublicKeyPackage,
} from '../src/index.js';
import { mod } from '../src/ciphersuite.js';
import { deriveInterpolatingValue } from '../src/polynomial.js';
import { numbered, othersOf, runDkg, runRefresh, seededRng, signWith } from './dkg-helpers.js';

function failure(f: () => unknown): { code: string; culprits: readonly string[] } {
  try {
    f();
  } catch (e) {
    if (!(e instanceof FrostError)) throw e;
    return { code: e.code, culprits: e.culprits };
  }
  return { code: 'ACCEPTED', culprits: [] };
}
const hexOf = (n: number): string => Identifier.fromNumber(n).toHex();
const message = new TextEncoder().encode('refresh');
const keysOf = (n: number, m: ReadonlyMap<string, KeyPackage>): KeyPackage => m.get(hexOf(n))!;

describe('refresh: whole runs', () => {
  it.each([
    ['a DKG key', 'dkg'],
    ['a dealer key', 'dealer'],
  ])('refreshes %s: same group key, every share and verifying share new, one public key package for all', (_name, origin) => {
    const old =
      origin === 'dkg'
        ? (() => {
            const r = runDkg(3, 5);
            return { keyPackages: r.keyPackages, publicKeyPackage: r.publicKeyPackages.values().next().value! };
          })()
        : trustedDealerKeygen({ minSigners: 3, maxSigners: 5 });
    const fresh = runRefresh(old, numbered(5));
    const documents = new Set([...fresh.publicKeyPackages.values()].map((p) => JSON.stringify(publicKeyPackageToJson(p))));
    expect(documents.size).toBe(1);
    const pkp = fresh.publicKeyPackages.values().next().value!;
    pkp.assertConsistent();
    expect(toHex(pkp.verifyingKeyBytes)).toBe(toHex(old.publicKeyPackage.verifyingKeyBytes));
    expect(pkp.minSigners).toBe(3);
    for (const id of numbered(5)) {
      expect(keysOf(id.toNumber()!, fresh.keyPackages).signingShare).not.toBe(keysOf(id.toNumber()!, old.keyPackages).signingShare);
      expect(toHex(pkp.verifyingShareBytesOf(id))).not.toBe(toHex(old.publicKeyPackage.verifyingShareBytesOf(id)));
      keysOf(id.toNumber()!, fresh.keyPackages).assertMatches(pkp);
    }
    const sig = signWith([1, 4, 5].map((i) => keysOf(i, fresh.keyPackages)), pkp, message);
    expect(verifyEd25519(pkp.verifyingKeyBytes, message, sig)).toBe(true);
  });

  it('removes the participants left out; the others still sign; a removed participant\'s old share is refused', () => {
    const r = runDkg(2, 4);
    const old = { keyPackages: r.keyPackages, publicKeyPackage: r.publicKeyPackages.values().next().value! };
    const kept = [1, 3, 4].map((i) => Identifier.fromNumber(i));
    const fresh = runRefresh(old, kept);
    const pkp = fresh.publicKeyPackages.values().next().value!;
    expect(pkp.identifiers.map(String)).toEqual(['1', '3', '4']);
    expect(verifyEd25519(pkp.verifyingKeyBytes, message, signWith([keysOf(3, fresh.keyPackages), keysOf(4, fresh.keyPackages)], pkp, message))).toBe(true);
    expect(failure(() => signWith([keysOf(2, old.keyPackages), keysOf(3, fresh.keyPackages)], pkp, message))).toEqual({ code: 'UNKNOWN_IDENTIFIER', culprits: [hexOf(2)] });
  });

  it('property: a quorum mixing old and refreshed shares never signs, under either key set, and names the odd one out', () => {
    const r = runDkg(2, 3, { rngFor: (id) => seededRng(`old/${id}`) });
    const old = { keyPackages: r.keyPackages, publicKeyPackage: r.publicKeyPackages.values().next().value! };
    const fresh = runRefresh(old, numbered(3));
    const freshPkp = fresh.publicKeyPackages.values().next().value!;
    fc.assert(
      fc.property(fc.constantFrom([1, 2], [1, 3], [2, 3]), fc.boolean(), ([a, b], oldFirst) => {
        const [oldId, newId] = oldFirst ? [a!, b!] : [b!, a!];
        const signers = [keysOf(oldId, old.keyPackages), keysOf(newId, fresh.keyPackages)];
        for (const [pkp, culprit] of [[freshPkp, oldId], [old.publicKeyPackage, newId]] as [PublicKeyPackage, number][]) {
          let error: unknown;
          try {
            signWith(signers, pkp, message);
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(InvalidSignatureShareError);
          expect((error as FrostError).culprits).toEqual([hexOf(culprit)]);
        }
      }),
      { numRuns: 6 },
    );
  });

  it('any t of the refreshed shares interpolate to the unchanged group secret; t − 1 do not (property)', () => {
    fc.assert(
      fc.property(fc.string(), (seed) => {
        const dealt = trustedDealerKeygen({ minSigners: 3, maxSigners: 4, secret: 12345n, rng: seededRng(seed) });
        const fresh = runRefresh(dealt, numbered(4), (id) => seededRng(`${seed}/${id}`));
        const kps = [...fresh.keyPackages.values()];
        const lagrange = (set: KeyPackage[]): bigint => {
          const xs = set.map((k) => k.identifier.value);
          return set.reduce((acc, k) => mod(acc + deriveInterpolatingValue(xs, k.identifier.value) * k.signingShare), 0n);
        };
        expect(lagrange(kps.slice(1))).toBe(12345n);
        expect(lagrange(kps.slice(0, 3))).toBe(12345n);
        expect(lagrange(kps.slice(0, 2))).not.toBe(12345n);
      }),
      { numRuns: 8 },
    );
  });
});

describe('refresh: refusals', () => {
  const setup = () => {
    const r = runDkg(3, 4, { rngFor: (id) => seededRng(`refresh-old/${id}`) });
    const old = { keyPackages: r.keyPackages, publicKeyPackage: r.publicKeyPackages.values().next().value! };
    const ids = numbered(4);
    const r1 = new Map(ids.map((id) => [id.toHex(), refreshDkgPart1(id, 4, 3, { participants: ids, rng: seededRng(`refresh/${id}`) })]));
    const packages1 = new Map([...r1].map(([k, v]) => [k, v.package]));
    const r2 = new Map(ids.map((id) => [id.toHex(), refreshDkgPart2(r1.get(id.toHex())!.secretPackage, othersOf(packages1, id))]));
    const received = (to: Identifier) => new Map([...r2].filter(([k]) => k !== to.toHex()).map(([k, v]) => [k, v.packages.get(to.toHex())!]));
    return { old, ids, packages1, r2, received };
  };
  const one = Identifier.fromNumber(1);

  it('part1 commits to t − 1 coefficients (the constant term is zero and implied)', () => {
    expect(refreshDkgPart1(one, 4, 3).package.commitment).toHaveLength(2);
    expect(failure(() => refreshDkgPart1(one, 1, 1)).code).toBe('INVALID_PARAMETERS');
    expect(failure(() => refreshDkgPart1(one, 3, 4)).code).toBe('INVALID_PARAMETERS');
  });

  it('part2 names senders whose commitment has the wrong length (a key-generation package, say) and unknown or missing senders', () => {
    const { packages1, ids } = setup();
    const secret = () => refreshDkgPart1(one, 4, 3, { participants: ids }).secretPackage;
    const dkgPackage = dkg.part1(Identifier.fromNumber(2), 4, 3).package; // three commitments, not two
    expect(failure(() => refreshDkgPart2(secret(), new Map([...othersOf(packages1, one), [hexOf(2), dkgPackage]])))).toEqual({ code: 'INVALID_COMMITMENT', culprits: [hexOf(2)] });
    const missing = othersOf(packages1, one);
    missing.delete(hexOf(3));
    expect(failure(() => refreshDkgPart2(secret(), missing))).toEqual({ code: 'MISSING_PACKAGE', culprits: [hexOf(3)] });
    expect(failure(() => refreshDkgPart2(secret(), new Map([...othersOf(packages1, one), [hexOf(8), dkgPackage]])))).toEqual({ code: 'UNEXPECTED_PACKAGE', culprits: [hexOf(8)] });
    expect(failure(() => refreshDkgPart2(dkg.part1(one, 4, 3).secretPackage, othersOf(packages1, one))).code).toBe('INVALID_PARAMETERS');
  });

  it('part2 does not check proofs of knowledge (a refresh proof proves nothing; frost-rs does not check it either)', () => {
    const { packages1, ids } = setup();
    const p = packages1.get(hexOf(2))!;
    const other = packages1.get(hexOf(3))!;
    const swapped = new Map([...othersOf(packages1, one), [hexOf(2), DkgRound1Package.fromBytes(p.commitment, other.proofOfKnowledge)]]);
    expect(refreshDkgPart2(refreshDkgPart1(one, 4, 3, { participants: ids }).secretPackage, swapped).packages.size).toBe(3);
  });

  it('shares names senders whose share does not match its commitment', () => {
    const { old, packages1, r2, received } = setup();
    const mine = received(one);
    mine.set(hexOf(4), new DkgRound2Package(mod(mine.get(hexOf(4))!.signingShare + 5n)));
    expect(failure(() => refreshDkgShares(r2.get(one.toHex())!.secretPackage, othersOf(packages1, one), mine, old.publicKeyPackage, keysOf(1, old.keyPackages)))).toEqual({
      code: 'INVALID_SECRET_SHARE',
      culprits: [hexOf(4)],
    });
  });

  it('shares refuses old key material that does not fit: another participant\'s, another key set, a refresh participant outside the key set', () => {
    const { old, packages1, r2, received } = setup();
    const secret = r2.get(one.toHex())!.secretPackage;
    const call = (pkp: PublicKeyPackage, kp: KeyPackage) => failure(() => refreshDkgShares(secret, othersOf(packages1, one), received(one), pkp, kp));
    expect(call(old.publicKeyPackage, keysOf(2, old.keyPackages)).code).toBe('INVALID_PARAMETERS');
    const other = trustedDealerKeygen({ minSigners: 3, maxSigners: 4 });
    expect(call(other.publicKeyPackage, keysOf(1, old.keyPackages)).code).toBe('INCONSISTENT_KEY');
    const threshold2 = trustedDealerKeygen({ minSigners: 2, maxSigners: 4 });
    expect(call(threshold2.publicKeyPackage, keysOf(1, threshold2.keyPackages)).code).toBe('INVALID_PARAMETERS');
    // A key set of three (1, 2, 3) refreshed by a run that also includes 4.
    const small = trustedDealerKeygen({ minSigners: 3, maxSigners: 3 });
    expect(call(small.publicKeyPackage, keysOf(1, small.keyPackages))).toEqual({ code: 'UNKNOWN_IDENTIFIER', culprits: [hexOf(4)] });
    expect(failure(() => refreshDkgShares(secret, othersOf(packages1, one), received(one), {} as PublicKeyPackage, keysOf(1, old.keyPackages))).code).toBe('INVALID_PARAMETERS');
  });

  it('a DKG round-2 secret package is refused by refresh, and a refresh one by dkg.part3', () => {
    const { old, packages1, r2, received } = setup();
    const dkgRun = runDkg(3, 4, { finish: false });
    expect(failure(() => refreshDkgShares(dkgRun.round2.get(one.toHex())!.secretPackage, othersOf(dkgRun.packages1, one), dkgRun.received2(one), old.publicKeyPackage, keysOf(1, old.keyPackages))).code).toBe('INVALID_PARAMETERS');
    expect(failure(() => dkg.part3(r2.get(one.toHex())!.secretPackage, othersOf(packages1, one), received(one))).code).toBe('INVALID_PARAMETERS');
  });
});

describe('refreshDkgShares argument checks', () => {
  it('anything but a Round2SecretPackage is a typed InvalidParametersError, not a TypeError', () => {
    const dealt = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
    const kp = [...dealt.keyPackages.values()][0]!;
    for (const bogus of [{}, null]) {
      expect(failure(() => refreshDkgShares(bogus as never, new Map(), new Map(), dealt.publicKeyPackage, kp)).code).toBe('INVALID_PARAMETERS');
    }
  });
});
