// frost-rs serde JSON for the DKG packages (dkg::round1::Package, dkg::round2::Package): layout,
// round trips, detection by decodeAny, and the same strict decoding as the other codecs.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  DkgRound2Package,
  FrostError,
  Identifier,
  decodeAny,
  dkg,
  dkgRound1PackageFromJson,
  dkgRound1PackageToJson,
  dkgRound2PackageFromJson,
  dkgRound2PackageToJson,
  keyPackageToJson,
  toHex,
  trustedDealerKeygen,
} from '../src/index.js';
import { numberToBytesLE } from '../src/bytes.js';
import { ORDER } from '../src/ciphersuite.js';
import { runDkg } from './dkg-helpers.js';

function failure(f: () => unknown): { code: string; culprits: readonly string[] } {
  try {
    f();
  } catch (e) {
    if (!(e instanceof FrostError)) throw e; // anything else is a crash, not a typed rejection
    return { code: e.code, culprits: e.culprits };
  }
  return { code: 'ACCEPTED', culprits: [] };
}

const run = runDkg(3, 4, { finish: false });
const one = Identifier.fromNumber(1);
const round1 = dkgRound1PackageToJson(run.packages1.get(one.toHex())!);
const round2 = dkgRound2PackageToJson(run.round2.get(one.toHex())!.packages.get(Identifier.fromNumber(2).toHex())!);
const HEADER = { version: 0, ciphersuite: 'FROST-ED25519-SHA512-v1' };
const samples = { DkgRound1Package: round1, DkgRound2Package: round2 };
const decoders = { DkgRound1Package: dkgRound1PackageFromJson, DkgRound2Package: dkgRound2PackageFromJson };
const kinds = ['DkgRound1Package', 'DkgRound2Package'] as const;

describe('DKG package JSON', () => {
  it('writes the frost-rs layout: header, commitment list, proof of knowledge; header, signing share', () => {
    expect(Object.keys(round1)).toEqual(['header', 'commitment', 'proof_of_knowledge']);
    expect(round1.header).toEqual(HEADER);
    expect(round1.commitment).toHaveLength(3);
    for (const c of round1.commitment as string[]) expect(c).toMatch(/^[0-9a-f]{64}$/);
    expect(round1.proof_of_knowledge).toMatch(/^[0-9a-f]{128}$/);
    expect(Object.keys(round2)).toEqual(['header', 'signing_share']);
    expect(round2.signing_share).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each(kinds)('%s round-trips to identical JSON and is detected by decodeAny (a key package still is one)', (kind) => {
    const text = JSON.stringify(samples[kind]);
    const decoded = decoders[kind](text);
    const again = kind === 'DkgRound1Package' ? dkgRound1PackageToJson(decoded as never) : dkgRound2PackageToJson(decoded as never);
    expect(JSON.stringify(again)).toBe(text);
    expect(decodeAny(text).kind).toBe(kind);
    const kp = trustedDealerKeygen({ minSigners: 2, maxSigners: 2 }).keyPackages.values().next().value!;
    expect(decodeAny(keyPackageToJson(kp)).kind).toBe('KeyPackage');
  });

  it.each(kinds)('%s: unknown field, missing field, wrong ciphersuite and version, bad JSON are typed errors', (kind) => {
    const base = samples[kind] as Record<string, unknown>;
    const decode = decoders[kind];
    expect(failure(() => decode({ ...base, extra: 1 })).code).toBe('UNKNOWN_FIELD');
    for (const field of Object.keys(base)) {
      const { [field]: _dropped, ...missing } = base;
      expect(failure(() => decode(missing)).code).toBe('MISSING_FIELD');
    }
    expect(failure(() => decode({ ...base, header: { version: 0, ciphersuite: 'FROST-RISTRETTO255-SHA512-v1' } })).code).toBe('CIPHERSUITE_MISMATCH');
    expect(failure(() => decode({ ...base, header: { version: 1, ciphersuite: HEADER.ciphersuite } })).code).toBe('UNSUPPORTED_VERSION');
    expect(failure(() => decode('{not json')).code).toBe('MALFORMED_INPUT');
    expect(failure(() => decode('[]')).code).toBe('MALFORMED_INPUT');
  });

  it('rejects bad points, bad scalars and malformed commitment lists; with a sender, names it', () => {
    const identity = '01' + '00'.repeat(31);
    const smallOrder = 'ec' + 'ff'.repeat(30) + '7f';
    const nonCanonicalY = 'ed' + 'ff'.repeat(30) + '7f';
    const [c0, c1, c2] = round1.commitment as string[];
    const pok = round1.proof_of_knowledge as string;
    for (const bad of [identity, smallOrder, nonCanonicalY]) {
      expect(failure(() => dkgRound1PackageFromJson({ ...round1, commitment: [c0, bad, c2] })).code).toBe('INVALID_POINT');
      expect(failure(() => dkgRound1PackageFromJson({ ...round1, proof_of_knowledge: bad + pok.slice(64) })).code).toBe('INVALID_POINT');
    }
    const nonCanonical = toHex(numberToBytesLE(ORDER, 32));
    expect(failure(() => dkgRound1PackageFromJson({ ...round1, proof_of_knowledge: pok.slice(0, 64) + nonCanonical })).code).toBe('INVALID_SCALAR');
    expect(failure(() => dkgRound2PackageFromJson({ ...round2, signing_share: nonCanonical })).code).toBe('INVALID_SCALAR');
    expect(failure(() => dkgRound1PackageFromJson({ ...round1, commitment: [] })).code).toBe('INVALID_COMMITMENT');
    expect(failure(() => dkgRound1PackageFromJson({ ...round1, commitment: c0 })).code).toBe('MALFORMED_INPUT');
    expect(failure(() => dkgRound1PackageFromJson({ ...round1, commitment: [c0, c1!.slice(2)] })).code).toBe('MALFORMED_INPUT');
    expect(failure(() => dkgRound1PackageFromJson({ ...round1, commitment: [c0, 7] })).code).toBe('MALFORMED_INPUT');
    expect(failure(() => dkgRound1PackageFromJson({ ...round1, proof_of_knowledge: pok.slice(0, 64) })).code).toBe('MALFORMED_INPUT');
    const sender = Identifier.fromNumber(3);
    expect(failure(() => dkgRound1PackageFromJson({ ...round1, commitment: [c0, identity, c2] }, { sender }))).toEqual({ code: 'INVALID_POINT', culprits: [sender.toHex()] });
    expect(failure(() => dkgRound2PackageFromJson({ ...round2, extra: true }, { sender }))).toEqual({ code: 'UNKNOWN_FIELD', culprits: [sender.toHex()] });
    expect(failure(() => dkgRound2PackageFromJson('nope', { sender }))).toEqual({ code: 'MALFORMED_INPUT', culprits: [sender.toHex()] });
  });

  it('accepts uppercase hex, as frost-rs does, and writes lowercase', () => {
    const upper = JSON.parse(JSON.stringify(round1).replace(/"([0-9a-f]{64,128})"/g, (_m, h: string) => `"${h.toUpperCase()}"`)) as Record<string, unknown>;
    expect(JSON.stringify(dkgRound1PackageToJson(dkgRound1PackageFromJson(upper)))).toBe(JSON.stringify(round1));
  });

  it('never crashes on arbitrary JSON values or mutated documents', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const kind of kinds) expect(failure(() => decoders[kind](JSON.stringify(value))).code).not.toBe('ACCEPTED');
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.nat(), fc.integer({ min: 1, max: 15 }), (kind, pos, flip) => {
        const text = JSON.stringify(samples[kind]);
        const hexPositions = [...text.matchAll(/[0-9a-f]{64,128}/g)].flatMap((m) => Array.from({ length: m[0].length }, (_, i) => m.index! + i));
        const p = hexPositions[pos % hexPositions.length]!;
        const mutated = text.slice(0, p) + (parseInt(text[p]!, 16) ^ flip).toString(16) + text.slice(p + 1);
        expect(typeof failure(() => decoders[kind](mutated)).code).toBe('string');
      }),
      { numRuns: 150 },
    );
  });

  it('property: round-2 packages round-trip every canonical scalar', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: ORDER - 1n }), (s) => {
        expect(dkgRound2PackageFromJson(JSON.stringify(dkgRound2PackageToJson(new DkgRound2Package(s)))).signingShare).toBe(s);
      }),
    );
  });

  it('a decoded package works in the protocol exactly like the original', () => {
    const fresh = runDkg(2, 3, { finish: false });
    const decoded = new Map([...fresh.packages1].map(([k, p]) => [k, dkgRound1PackageFromJson(JSON.stringify(dkgRound1PackageToJson(p)))]));
    decoded.delete(one.toHex());
    const secret = dkg.part1(one, 3, 2).secretPackage;
    expect(dkg.part2(secret, decoded).packages.size).toBe(2);
  });
});

describe('DKG round-1 packages of the wrong length', () => {
  it('are refused by count before any point is decoded when the expected length is given', () => {
    // 3,000 entries that are not points at all: with the length known, the count is what fails.
    const huge = { ...round1, commitment: new Array<string>(3000).fill('ff'.repeat(32)) };
    expect(failure(() => dkgRound1PackageFromJson(huge, { commitmentLength: 3 })).code).toBe('INVALID_COMMITMENT');
    expect(failure(() => dkgRound1PackageFromJson(huge)).code).toBe('INVALID_POINT');
    expect(failure(() => dkgRound1PackageFromJson(round1, { commitmentLength: 2 })).code).toBe('INVALID_COMMITMENT');
    expect(dkgRound1PackageFromJson(round1, { commitmentLength: 3 }).commitment).toHaveLength(3);
  });
});
