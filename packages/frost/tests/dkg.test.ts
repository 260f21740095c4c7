// Distributed key generation (dkg.part1/2/3): whole runs, the interpolation property, every refusal
// with the culprits it names, single use of the round-1 secret, and agreement of the group backends.
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { inspect } from 'node:util';
import {
  DkgRound1Package,
  DkgRound2Package,
  FrostError,
  Identifier,
  dkg,
  dkgRound1PackageFromJson,
  dkgRound1PackageToJson,
  keyPackageToJson,
  publicKeyPackageToJson,
  refreshDkgPart1,
  toHex,
  verifyEd25519,
  type KeyPackage,
} from '../src/index.js';
import { bytesToNumberLE } from '../src/bytes.js';
import { Point, mod, serializeScalar } from '../src/ciphersuite.js';
import { ownSecretShare } from '../src/dkg-packages.js';
import { availableBackends, group, setGroupBackend } from '../src/group.js';
import { deriveInterpolatingValue } from '../src/polynomial.js';
import { numbered, othersOf, runDkg, seededRng, signWith } from './dkg-helpers.js';

/** The code and culprits of the FrostError `f` throws ('ACCEPTED' when it throws none). */
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
const message = new TextEncoder().encode('distributed key');

/** G·Σ λ_i s_i over `kps` (λ over their identifiers): the group key exactly when the shares determine it. */
function interpolatedKey(kps: readonly KeyPackage[]): Uint8Array {
  const xs = kps.map((kp) => kp.identifier.value);
  const secret = kps.reduce((acc, kp) => mod(acc + deriveInterpolatingValue(xs, kp.identifier.value) * kp.signingShare), 0n);
  return Point.BASE.multiply(secret).toBytes();
}

describe('dkg: whole runs', () => {
  it.each([
    [2, 3, false],
    [3, 5, true],
    [5, 5, false],
  ])('%i-of-%i (participants known: %s): every participant ends with the same public key package, and any quorum signs', (t, n, known) => {
    const run = runDkg(t, n, { participantsKnown: known });
    const documents = [...run.publicKeyPackages.values()].map((p) => JSON.stringify(publicKeyPackageToJson(p)));
    expect(new Set(documents).size).toBe(1);
    const pkp = run.publicKeyPackages.values().next().value!;
    pkp.assertConsistent();
    expect(pkp.minSigners).toBe(t);
    expect(pkp.maxSigners).toBe(n);
    for (const kp of run.keyPackages.values()) kp.assertMatches(pkp);
    const quorum = [...run.keyPackages.values()].slice(n - t);
    expect(verifyEd25519(pkp.verifyingKeyBytes, message, signWith(quorum, pkp, message))).toBe(true);
  });

  it('works with identifiers that are not small numbers (derived from names), in any order', () => {
    const ids = [Identifier.fromHex('ab'.repeat(31) + '0a'), Identifier.fromNumber(7), Identifier.fromHex('01'.repeat(32))];
    const run = runDkg(2, 3, { ids });
    const pkp = run.publicKeyPackages.values().next().value!;
    expect(pkp.identifiers.map((i) => i.toHex())).toEqual([...ids].sort(Identifier.compare).map((i) => i.toHex()));
    pkp.assertConsistent();
  });

  it('property: any t of the n shares interpolate to the group key, and no t − 1 do', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n }))),
        fc.string(),
        fc.nat(),
        ([n, t], seed, pick) => {
          const run = runDkg(t, n, { rngFor: (id) => seededRng(`${seed}/${id}`) });
          const pkp = run.publicKeyPackages.values().next().value!;
          const kps = [...run.keyPackages.values()];
          // A subset of size t chosen by `pick`, and the same minus one member.
          const order = kps.map((kp, i) => ({ kp, key: (i * 7919 + pick) % 104729 })).sort((a, b) => a.key - b.key).map((e) => e.kp);
          const quorum = order.slice(0, t);
          expect(toHex(interpolatedKey(quorum))).toBe(toHex(pkp.verifyingKeyBytes));
          expect(toHex(interpolatedKey(quorum.slice(1)))).not.toBe(toHex(pkp.verifyingKeyBytes));
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe('dkg.part1', () => {
  it('commits to t coefficients with a proof of knowledge that verifies, and refuses bad parameters', () => {
    const { secretPackage, package: pkg } = dkg.part1(Identifier.fromNumber(1), 3, 2);
    expect(pkg.commitment).toHaveLength(2);
    expect(secretPackage.minSigners).toBe(2);
    expect(secretPackage.maxSigners).toBe(3);
    for (const [max, min] of [[3, 1], [3, 4], [1, 1], [65536, 2], [3, 2.5], [NaN, 2]]) {
      expect(failure(() => dkg.part1(Identifier.fromNumber(1), max!, min!)).code).toBe('INVALID_PARAMETERS');
    }
    expect(failure(() => dkg.part1(1 as unknown as Identifier, 3, 2)).code).toBe('INVALID_IDENTIFIER');
  });

  it('checks the participant list: max_signers distinct identifiers including this participant', () => {
    const [a, b, c, d] = numbered(4);
    expect(failure(() => dkg.part1(a!, 3, 2, { participants: [a!, b!] })).code).toBe('INVALID_PARAMETERS');
    expect(failure(() => dkg.part1(a!, 3, 2, { participants: [b!, c!, d!] })).code).toBe('INVALID_PARAMETERS');
    expect(failure(() => dkg.part1(a!, 3, 2, { participants: [a!, b!, b!] }))).toEqual({ code: 'INVALID_PARAMETERS', culprits: [hexOf(2)] });
    expect(dkg.part1(a!, 3, 2, { participants: [c!, a!, b!] }).secretPackage.participants!.map(String)).toEqual(['1', '2', '3']);
  });

  it('secret packages never show their secrets in JSON or inspection', () => {
    const run = runDkg(2, 3, { finish: false, rngFor: (id) => seededRng(`redact/${id}`) });
    const one = Identifier.fromNumber(1);
    const r2 = run.round2.get(one.toHex())!;
    const secrets = [
      [r2.secretPackage, toHex(serializeScalar(ownSecretShare(r2.secretPackage)))],
      [r2.packages.get(hexOf(2))!, toHex(r2.packages.get(hexOf(2))!.toBytes())],
    ] as const;
    for (const [secretThing, secretHex] of secrets) {
      const text = JSON.stringify(secretThing) + inspect(secretThing, { showHidden: true, depth: 5 }) + String(secretThing);
      expect(text).toMatch(/redacted/);
      expect(text).not.toContain(secretHex);
    }
    // The constant term is the first 64 bytes the source yields, reduced.
    const a0 = toHex(serializeScalar(mod(bytesToNumberLE(seededRng('redact/1')(64)))));
    const r1 = dkg.part1(one, 3, 2, { rng: seededRng('redact/1') });
    const text = JSON.stringify(r1.secretPackage) + inspect(r1.secretPackage, { showHidden: true, depth: 5 }) + String(r1.secretPackage);
    expect(text).toMatch(/redacted/);
    expect(text).not.toContain(a0);
  });
});

describe('dkg.part2', () => {
  const fresh = () => runDkg(3, 4, { finish: false, participantsKnown: true, rngFor: (id) => seededRng(`p2/${id}`) });
  const one = Identifier.fromNumber(1);
  const secretOf = (_run: ReturnType<typeof fresh>) => dkg.part1(one, 4, 3, { participants: numbered(4), rng: seededRng(`p2/${one}`) }).secretPackage;

  it('names every sender whose proof of knowledge fails (another sender\'s proof, or a changed μ)', () => {
    const run = fresh();
    const packages = othersOf(run.packages1, one);
    const p2 = packages.get(hexOf(2))!;
    const p3 = packages.get(hexOf(3))!;
    packages.set(hexOf(2), DkgRound1Package.fromBytes(p2.commitment, p3.proofOfKnowledge));
    const mu = Uint8Array.from(p3.proofOfKnowledge);
    mu[40]! ^= 1;
    packages.set(hexOf(3), DkgRound1Package.fromBytes(p3.commitment, mu));
    expect(failure(() => dkg.part2(secretOf(run), packages))).toEqual({ code: 'INVALID_PROOF_OF_KNOWLEDGE', culprits: [hexOf(2), hexOf(3)] });
  });

  it('refuses a package replayed under another sender: the proof is bound to the identifier', () => {
    const run = fresh();
    const packages = othersOf(run.packages1, one);
    packages.set(hexOf(4), packages.get(hexOf(2))!);
    expect(failure(() => dkg.part2(secretOf(run), packages))).toEqual({ code: 'INVALID_PROOF_OF_KNOWLEDGE', culprits: [hexOf(4)] });
  });

  it('names senders whose commitment has the wrong length', () => {
    const run = fresh();
    const packages = othersOf(run.packages1, one);
    const p = packages.get(hexOf(3))!;
    packages.set(hexOf(3), DkgRound1Package.fromBytes(p.commitment.slice(0, 2), p.proofOfKnowledge));
    const q = packages.get(hexOf(4))!;
    packages.set(hexOf(4), DkgRound1Package.fromBytes([...q.commitment, q.commitment[1]!], q.proofOfKnowledge));
    expect(failure(() => dkg.part2(secretOf(run), packages))).toEqual({ code: 'INVALID_COMMITMENT', culprits: [hexOf(3), hexOf(4)] });
  });

  it('names unknown, duplicate and missing senders, and a package claiming to be from the receiver', () => {
    const run = fresh();
    const packages = othersOf(run.packages1, one);
    const stranger = Identifier.fromNumber(9);
    expect(failure(() => dkg.part2(secretOf(run), new Map([...packages, [stranger.toHex(), packages.get(hexOf(2))!]])))).toEqual({
      code: 'UNEXPECTED_PACKAGE',
      culprits: [stranger.toHex()],
    });
    expect(failure(() => dkg.part2(secretOf(run), [...packages, [hexOf(3), packages.get(hexOf(3))!]]))).toEqual({ code: 'DUPLICATE_PACKAGE', culprits: [hexOf(3)] });
    // Two spellings of one identifier are one sender.
    expect(failure(() => dkg.part2(secretOf(run), [...packages, [Identifier.fromNumber(3), packages.get(hexOf(3))!]]))).toEqual({ code: 'DUPLICATE_PACKAGE', culprits: [hexOf(3)] });
    const ids = [1, 10, 11].map((i) => Identifier.fromNumber(i));
    const lettered = runDkg(2, 3, { ids, finish: false });
    const ten = ids[1]!.toHex();
    const spelled = [...othersOf(lettered.packages1, ids[0]!), [ten.toUpperCase(), lettered.packages1.get(ten)!] as const];
    expect(failure(() => dkg.part2(dkg.part1(ids[0]!, 3, 2).secretPackage, spelled))).toEqual({ code: 'DUPLICATE_PACKAGE', culprits: [ten] });
    const missing = new Map(packages);
    missing.delete(hexOf(4));
    expect(failure(() => dkg.part2(secretOf(run), missing))).toEqual({ code: 'MISSING_PACKAGE', culprits: [hexOf(4)] });
    expect(failure(() => dkg.part2(secretOf(run), new Map([...missing, [one.toHex(), run.packages1.get(one.toHex())!]])))).toEqual({
      code: 'UNEXPECTED_PACKAGE',
      culprits: [one.toHex()],
    });
    expect(failure(() => dkg.part2(secretOf(run), new Map([...packages, ['not an id', packages.get(hexOf(2))!]]))).code).toBe('INVALID_IDENTIFIER');
    expect(failure(() => dkg.part2(secretOf(run), new Map([[hexOf(2), {} as DkgRound1Package]]))).code).toBe('MALFORMED_INPUT');
    expect(failure(() => dkg.part2(secretOf(run), 42 as unknown as Map<string, DkgRound1Package>)).code).toBe('MALFORMED_INPUT');
  });

  it('without a participant list it can only count: too many or too few packages', () => {
    const run = runDkg(2, 3, { finish: false });
    const secret = () => dkg.part1(one, 3, 2).secretPackage;
    const packages = othersOf(run.packages1, one);
    expect(failure(() => dkg.part2(secret(), new Map([...packages].slice(0, 1))))).toEqual({ code: 'MISSING_PACKAGE', culprits: [] });
    const extra = new Map([...packages, [hexOf(9), packages.get(hexOf(2))!]]);
    expect(failure(() => dkg.part2(secret(), extra))).toEqual({ code: 'UNEXPECTED_PACKAGE', culprits: [] });
  });

  it('uses the secret package up on success only; a second call is refused', () => {
    const run = fresh();
    const packages = othersOf(run.packages1, one);
    const secret = secretOf(run);
    const bad = new Map(packages);
    bad.delete(hexOf(2));
    expect(failure(() => dkg.part2(secret, bad)).code).toBe('MISSING_PACKAGE');
    expect(secret.used).toBe(false);
    const out = dkg.part2(secret, packages);
    expect(out.packages.size).toBe(3);
    expect(secret.used).toBe(true);
    expect(failure(() => dkg.part2(secret, packages)).code).toBe('SECRET_PACKAGE_REUSE');
  });

  it('refuses a refresh secret package', () => {
    const run = runDkg(2, 3, { finish: false });
    const refreshSecret = refreshDkgPart1(one, 3, 2).secretPackage;
    expect(failure(() => dkg.part2(refreshSecret, othersOf(run.packages1, one))).code).toBe('INVALID_PARAMETERS');
    expect(failure(() => dkg.part2({} as never, othersOf(run.packages1, one))).code).toBe('INVALID_PARAMETERS');
  });

  it('an identity or small-order commitment never gets in: the decoder refuses it and names the sender it is told', () => {
    const run = fresh();
    const json = dkgRound1PackageToJson(run.packages1.get(hexOf(2))!);
    for (const bad of ['01' + '00'.repeat(31), 'ec' + 'ff'.repeat(30) + '7f', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05']) {
      const tampered = { ...json, commitment: [(json.commitment as string[])[0], bad, (json.commitment as string[])[2]] };
      expect(failure(() => dkgRound1PackageFromJson(tampered, { sender: Identifier.fromNumber(2) }))).toEqual({ code: 'INVALID_POINT', culprits: [hexOf(2)] });
    }
    expect(failure(() => DkgRound1Package.fromBytes([Point.ZERO.toBytes()], run.packages1.get(hexOf(2))!.proofOfKnowledge)).code).toBe('INVALID_POINT');
  });
});

describe('dkg.part3', () => {
  const one = Identifier.fromNumber(1);
  const setup = () => runDkg(3, 4, { finish: false, participantsKnown: true, rngFor: (id) => seededRng(`p3/${id}`) });

  it('names every sender whose share does not match its commitment', () => {
    const run = setup();
    const received = run.received2(one);
    received.set(hexOf(2), new DkgRound2Package(mod(received.get(hexOf(2))!.signingShare + 1n)));
    received.set(hexOf(4), run.received2(Identifier.fromNumber(3)).get(hexOf(4))!); // meant for participant 3
    const secret = run.round2.get(one.toHex())!.secretPackage;
    expect(failure(() => dkg.part3(secret, othersOf(run.packages1, one), received))).toEqual({ code: 'INVALID_SECRET_SHARE', culprits: [hexOf(2), hexOf(4)] });
  });

  it('property: a share changed in any way is refused and its sender named', () => {
    const run = setup();
    const secret = run.round2.get(one.toHex())!.secretPackage;
    fc.assert(
      fc.property(fc.constantFrom(2, 3, 4), fc.bigInt({ min: 1n, max: 2n ** 252n }), (sender, delta) => {
        const received = run.received2(one);
        received.set(hexOf(sender), new DkgRound2Package(mod(received.get(hexOf(sender))!.signingShare + delta)));
        expect(failure(() => dkg.part3(secret, othersOf(run.packages1, one), received))).toEqual({ code: 'INVALID_SECRET_SHARE', culprits: [hexOf(sender)] });
      }),
      { numRuns: 20 },
    );
  });

  it('requires the round-1 packages part 2 used, and exactly one round-2 package from each of their senders', () => {
    const run = setup();
    const secret = run.round2.get(one.toHex())!.secretPackage;
    const round1 = othersOf(run.packages1, one);
    const other = runDkg(3, 4, { finish: false, participantsKnown: true });
    const changed = new Map(round1);
    changed.set(hexOf(3), other.packages1.get(hexOf(3))!);
    expect(failure(() => dkg.part3(secret, changed, run.received2(one)))).toEqual({ code: 'PACKAGE_MISMATCH', culprits: [hexOf(3)] });
    const fewer = new Map(round1);
    fewer.delete(hexOf(4));
    expect(failure(() => dkg.part3(secret, fewer, run.received2(one)))).toEqual({ code: 'MISSING_PACKAGE', culprits: [hexOf(4)] });
    const missing2 = run.received2(one);
    missing2.delete(hexOf(2));
    expect(failure(() => dkg.part3(secret, round1, missing2))).toEqual({ code: 'MISSING_PACKAGE', culprits: [hexOf(2)] });
    const extra2 = run.received2(one);
    extra2.set(hexOf(7), extra2.get(hexOf(2))!);
    expect(failure(() => dkg.part3(secret, round1, extra2))).toEqual({ code: 'UNEXPECTED_PACKAGE', culprits: [hexOf(7)] });
    expect(failure(() => dkg.part3(secret, round1, [...run.received2(one), [hexOf(2), run.received2(one).get(hexOf(2))!]]))).toEqual({ code: 'DUPLICATE_PACKAGE', culprits: [hexOf(2)] });
    // None of this consumed anything: the correct call still succeeds, and repeating it gives the same key.
    const a = dkg.part3(secret, round1, run.received2(one));
    const b = dkg.part3(secret, round1, run.received2(one));
    expect(JSON.stringify(keyPackageToJson(a.keyPackage))).toBe(JSON.stringify(keyPackageToJson(b.keyPackage)));
  });
});

describe('dkg: group backends agree', () => {
  const initial = group().name;
  afterAll(() => setGroupBackend(initial));

  it(`the same randomness gives byte-identical packages and key material on ${availableBackends().join(', ')}`, () => {
    const results = availableBackends().map((backend) => {
      setGroupBackend(backend);
      const run = runDkg(3, 5, { rngFor: (id) => seededRng(`differential/${id}`) });
      return JSON.stringify({
        round1: [...run.packages1.values()].map(dkgRound1PackageToJson),
        round2: [...run.round2.values()].map((r) => [...r.packages.values()].map((p) => toHex(p.toBytes()))),
        keys: [...run.keyPackages.values()].map(keyPackageToJson),
        pkp: publicKeyPackageToJson(run.publicKeyPackages.values().next().value!),
      });
    });
    expect(availableBackends().length).toBeGreaterThanOrEqual(2);
    expect(new Set(results).size).toBe(1);
  });
});
