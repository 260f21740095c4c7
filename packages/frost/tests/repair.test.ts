// Repair of a lost share (repairSharePart1/2/3): t helpers rebuild exactly the lost key package; bad
// helper sets and wrong values are refused; deltas and sigmas never show in JSON or inspection.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { inspect } from 'node:util';
import {
  FrostError,
  Identifier,
  RepairDelta,
  RepairSigma,
  keyPackageToJson,
  repairSharePart1,
  repairSharePart2,
  repairSharePart3,
  toHex,
  trustedDealerKeygen,
  type KeyPackage,
  type PublicKeyPackage,
} from '../src/index.js';
import { ORDER, mod, serializeScalar } from '../src/ciphersuite.js';
import { runDkg, seededRng } from './dkg-helpers.js';

function failure(f: () => unknown): { code: string; culprits: readonly string[] } {
  try {
    f();
  } catch (e) {
    if (!(e instanceof FrostError)) throw e;
    return { code: e.code, culprits: e.culprits };
  }
  return { code: 'ACCEPTED', culprits: [] };
}
const id = (n: number): Identifier => Identifier.fromNumber(n);

/** The whole repair of `lost` by `helpers`; returns the sigmas and the repaired key package. */
function repair(keys: ReadonlyMap<string, KeyPackage>, pkp: PublicKeyPackage, helpers: number[], lost: number, seed?: string): KeyPackage {
  const helperIds = helpers.map(id);
  const deltas = new Map(helpers.map((h) => [h, repairSharePart1(helperIds, keys.get(id(h).toHex())!, id(lost), seed ? seededRng(`${seed}/${h}`) : undefined)]));
  const sigmas = helpers.map((j) => repairSharePart2(helpers.map((i) => deltas.get(i)!.get(id(j).toHex())!)));
  return repairSharePart3(sigmas, id(lost), pkp);
}

describe('repair', () => {
  it('property: any t helpers rebuild exactly the lost key package', () => {
    const r = runDkg(3, 6);
    const pkp = r.publicKeyPackages.values().next().value!;
    fc.assert(
      fc.property(fc.shuffledSubarray([1, 2, 3, 4, 5, 6], { minLength: 4, maxLength: 6 }), fc.string(), (members, seed) => {
        const [lost, ...helpers] = members;
        const repaired = repair(r.keyPackages, pkp, helpers, lost!, seed);
        expect(JSON.stringify(keyPackageToJson(repaired))).toBe(JSON.stringify(keyPackageToJson(r.keyPackages.get(id(lost!).toHex())!)));
      }),
      { numRuns: 10 },
    );
  });

  it('part1 splits ζ·s into one delta per helper, ascending; the deltas alone look random', () => {
    const dealt = trustedDealerKeygen({ minSigners: 2, maxSigners: 4 });
    const deltas = repairSharePart1([id(4), id(2)], dealt.keyPackages.get(id(2).toHex())!, id(1));
    expect([...deltas.keys()]).toEqual([id(2).toHex(), id(4).toHex()]);
    const again = repairSharePart1([id(4), id(2)], dealt.keyPackages.get(id(2).toHex())!, id(1));
    expect(toHex(again.get(id(2).toHex())!.toBytes())).not.toBe(toHex(deltas.get(id(2).toHex())!.toBytes()));
  });

  it('part1 refuses too few helpers, a helper listed twice (named), a helper set without this helper, and the lost participant as helper', () => {
    const dealt = trustedDealerKeygen({ minSigners: 3, maxSigners: 5 });
    const kp = dealt.keyPackages.get(id(1).toHex())!;
    expect(failure(() => repairSharePart1([id(1), id(2)], kp, id(5))).code).toBe('INVALID_PARAMETERS');
    expect(failure(() => repairSharePart1([id(1), id(2), id(2)], kp, id(5)))).toEqual({ code: 'INVALID_PARAMETERS', culprits: [id(2).toHex()] });
    expect(failure(() => repairSharePart1([id(2), id(3), id(4)], kp, id(5))).code).toBe('INVALID_PARAMETERS');
    expect(failure(() => repairSharePart1([id(1), id(2), id(5)], kp, id(5))).code).toBe('INVALID_PARAMETERS');
    expect(failure(() => repairSharePart1([id(1), id(2), id(3)], {} as KeyPackage, id(5))).code).toBe('INVALID_PARAMETERS');
  });

  it('part3 refuses a wrong sigma, helpers that disagreed on the helper set, too few sigmas and an unknown identifier', () => {
    const dealt = trustedDealerKeygen({ minSigners: 3, maxSigners: 5 });
    const pkp = dealt.publicKeyPackage;
    const kp = (n: number): KeyPackage => dealt.keyPackages.get(id(n).toHex())!;
    const helpers = [1, 2, 3];
    const deltas = new Map(helpers.map((h) => [h, repairSharePart1(helpers.map(id), kp(h), id(5))]));
    const sigmas = helpers.map((j) => repairSharePart2(helpers.map((i) => deltas.get(i)!.get(id(j).toHex())!)));
    expect(repairSharePart3(sigmas, id(5), pkp).signingShare).toBe(kp(5).signingShare);
    const wrong = [...sigmas.slice(1), new RepairSigma(mod(sigmas[0]!.value + 1n))];
    expect(failure(() => repairSharePart3(wrong, id(5), pkp)).code).toBe('INCONSISTENT_KEY');
    // Helper 3 believed the helpers were 1, 3, 4.
    const other = repairSharePart1([id(1), id(3), id(4)], kp(3), id(5));
    const mixed = helpers.map((j) => repairSharePart2(helpers.map((i) => (i === 3 ? other : deltas.get(i)!).get(id(j).toHex()) ?? new RepairDelta(0n))));
    expect(failure(() => repairSharePart3(mixed, id(5), pkp)).code).toBe('INCONSISTENT_KEY');
    expect(failure(() => repairSharePart3(sigmas.slice(1), id(5), pkp)).code).toBe('INVALID_PARAMETERS');
    expect(failure(() => repairSharePart3(sigmas, id(9), pkp)).code).toBe('UNKNOWN_IDENTIFIER');
    // Repairing as another participant yields a share that fits nobody.
    expect(failure(() => repairSharePart3(sigmas, id(4), pkp)).code).toBe('INCONSISTENT_KEY');
    expect(failure(() => repairSharePart2([])).code).toBe('INVALID_PARAMETERS');
  });

  it('deltas and sigmas are canonical scalars, redacted in JSON and inspection', () => {
    const d = new RepairDelta(123456789n);
    const s = RepairSigma.fromBytes(serializeScalar(987654321n));
    for (const v of [d, s]) {
      const text = JSON.stringify({ v }) + inspect(v, { showHidden: true }) + String(v);
      expect(text).toMatch(/redacted/);
      expect(text).not.toMatch(/123456789|987654321|15cd5b07|b168de3a/);
    }
    expect(toHex(RepairDelta.fromBytes(d.toBytes()).toBytes())).toBe(toHex(d.toBytes()));
    expect(failure(() => new RepairDelta(ORDER)).code).toBe('INVALID_SCALAR');
    expect(failure(() => RepairSigma.fromBytes(serializeScalar(ORDER - 1n).map((b, i) => (i === 31 ? 0xff : b)))).code).toBe('INVALID_SCALAR');
  });
});
