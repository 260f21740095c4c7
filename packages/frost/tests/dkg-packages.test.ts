// The DKG package classes and their helpers: HDKG and the proof of knowledge, package validation,
// sender bookkeeping and culprit attribution.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import {
  DkgRound1Package,
  DkgRound2Package,
  FrostError,
  Identifier,
  InvalidPointError,
  dkg,
  refreshDkgPart1,
  toHex,
} from '../src/index.js';
import { bytesToNumberLE, concatBytes } from '../src/bytes.js';
import { Point, mod, serializeScalar } from '../src/ciphersuite.js';
import {
  HDKG,
  blamingSender,
  checkParticipants,
  collectPackages,
  computeProofOfKnowledge,
  proofOfKnowledgeChallenge,
  verifyProofOfKnowledge,
} from '../src/dkg-packages.js';
import { seededRng } from './dkg-helpers.js';

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

describe('HDKG and the proof of knowledge', () => {
  it('HDKG is SHA-512 over "FROST-ED25519-SHA512-v1" ‖ "dkg" ‖ m, read little-endian and reduced', () => {
    const m = new TextEncoder().encode('preimage');
    const digest = createHash('sha512').update('FROST-ED25519-SHA512-v1dkg').update(m).digest();
    expect(HDKG(m)).toBe(mod(bytesToNumberLE(digest)));
  });

  it('the challenge preimage is identifier ‖ φ_0 ‖ R', () => {
    const phi0 = Point.BASE.multiply(5n).toBytes();
    const R = Point.BASE.multiply(7n).toBytes();
    expect(proofOfKnowledgeChallenge(id(3), phi0, R)).toBe(HDKG(concatBytes(serializeScalar(3n), phi0, R)));
  });

  it('a proof verifies for its identifier and constant term only', () => {
    const a0 = 123456789n;
    const phi0 = Point.BASE.multiply(a0).toBytes();
    const proof = computeProofOfKnowledge(id(2), a0, phi0, seededRng('pok'));
    expect(verifyProofOfKnowledge(id(2), phi0, proof)).toBe(true);
    expect(verifyProofOfKnowledge(id(3), phi0, proof)).toBe(false);
    expect(verifyProofOfKnowledge(id(2), Point.BASE.multiply(a0 + 1n).toBytes(), proof)).toBe(false);
    const wrongSecret = computeProofOfKnowledge(id(2), a0 + 1n, phi0, seededRng('pok'));
    expect(verifyProofOfKnowledge(id(2), phi0, wrongSecret)).toBe(false);
  });
});

describe('Round1Package and Round2Package', () => {
  const phi = [Point.BASE.multiply(3n).toBytes(), Point.BASE.multiply(4n).toBytes()];
  const proof = computeProofOfKnowledge(id(1), 3n, phi[0]!, seededRng('p'));

  it('fromBytes copies its input and validates every element and the proof scalar', () => {
    const input = phi.map((p) => Uint8Array.from(p));
    const pkg = DkgRound1Package.fromBytes(input, proof);
    input[0]!.fill(0);
    expect(toHex(pkg.verifyingKey)).toBe(toHex(phi[0]!));
    expect(Object.isFrozen(pkg) && Object.isFrozen(pkg.commitment)).toBe(true);
    expect(failure(() => DkgRound1Package.fromBytes([], proof)).code).toBe('INVALID_COMMITMENT');
    expect(failure(() => DkgRound1Package.fromBytes([phi[0]!, Point.ZERO.toBytes()], proof)).code).toBe('INVALID_POINT');
    expect(failure(() => DkgRound1Package.fromBytes(phi, proof.subarray(0, 63))).code).toBe('MALFORMED_INPUT');
    const badMu = Uint8Array.from(proof);
    badMu.set(new Uint8Array(32).fill(0xff), 32);
    expect(failure(() => DkgRound1Package.fromBytes(phi, badMu)).code).toBe('INVALID_SCALAR');
    expect(pkg.equals(DkgRound1Package.fromBytes(phi, proof))).toBe(true);
    expect(pkg.equals(DkgRound1Package.fromBytes(phi.slice(0, 1), proof))).toBe(false);
  });

  it('tells a key-generation proof (checked for its sender) from a refresh proof (over a zero constant term)', () => {
    const dkgPackage = dkg.part1(id(2), 3, 2).package;
    expect(dkgPackage.verifyProofOfKnowledge(id(2))).toBe(true);
    expect(dkgPackage.verifyProofOfKnowledge(id(1))).toBe(false);
    expect(dkgPackage.isRefreshPackage()).toBe(false);
    const refreshPackage = refreshDkgPart1(id(2), 3, 2).package;
    expect(refreshPackage.isRefreshPackage()).toBe(true);
    expect(refreshPackage.verifyProofOfKnowledge(id(2))).toBe(false);
  });

  it('a round-2 package holds a canonical scalar', () => {
    expect(DkgRound2Package.fromBytes(serializeScalar(9n)).signingShare).toBe(9n);
    expect(failure(() => new DkgRound2Package(-1n)).code).toBe('INVALID_SCALAR');
    expect(failure(() => DkgRound2Package.fromBytes(new Uint8Array(31))).code).toBe('INVALID_SCALAR');
  });
});

describe('sender bookkeeping', () => {
  const pkg = new DkgRound2Package(1n);

  it('collectPackages accepts a map or entries keyed by hex or Identifier, sorted by identifier', () => {
    const out = collectPackages([[id(300), pkg], [id(2).toHex(), pkg], [id(256).toHex().toUpperCase(), pkg]], DkgRound2Package, 'test');
    expect([...out.values()].map((e) => e.identifier.toNumber())).toEqual([2, 256, 300]);
  });

  it('blamingSender puts the sender into any FrostError without culprits, and leaves others alone', () => {
    expect(failure(() => blamingSender(id(4), () => { throw new InvalidPointError('x'); }))).toEqual({ code: 'INVALID_POINT', culprits: [id(4).toHex()] });
    expect(failure(() => blamingSender(id(4), () => { throw new InvalidPointError('x', { culprits: ['aa'] }); })).culprits).toEqual(['aa']);
    expect(() => blamingSender(id(4), () => { throw new TypeError('not ours'); })).toThrow(TypeError);
    expect(blamingSender(undefined, () => 5)).toBe(5);
  });

  it('checkParticipants sorts a valid list and refuses others', () => {
    expect(checkParticipants(id(2), [id(3), id(2)], 2)!.map(String)).toEqual(['2', '3']);
    expect(checkParticipants(id(2), undefined, 2)).toBeUndefined();
    expect(failure(() => checkParticipants(id(2), [id(3), 2 as unknown as Identifier], 2)).code).toBe('INVALID_PARAMETERS');
  });
});
