// The frost-rs DKG test vector for FROST(Ed25519, SHA-512), reproduced byte for byte on every group
// backend: commitments, proofs of knowledge, the shares each participant sends, the resulting signing
// and verifying shares and the group key.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  Identifier,
  dkg,
  dkgRound1PackageFromJson,
  dkgRound1PackageToJson,
  dkgRound2PackageFromJson,
  fromHexStrict,
  publicKeyPackageToJson,
  toHex,
  verifyEd25519,
  type DkgPart3Output,
  type DkgRound1Package,
  type DkgRound2Package,
  type DkgPart2Output,
} from '../src/index.js';
import { numberToBytesLE } from '../src/bytes.js';
import { Point, deserializeScalar, mod, serializeScalar } from '../src/ciphersuite.js';
import { ownSecretShare, proofOfKnowledgeChallenge } from '../src/dkg-packages.js';
import { availableBackends, group, setGroupBackend } from '../src/group.js';
import { polynomialEvaluate } from '../src/polynomial.js';
import { othersOf, signWith } from './dkg-helpers.js';

interface Participant {
  identifier: number;
  coefficients: string[];
  commitment: string[];
  proofOfKnowledge: string;
  sharesReceived: Record<string, string>;
  signingShare: string;
  verifyingShare: string;
}
interface Vector {
  minSigners: number;
  maxSigners: number;
  verifyingKey: string;
  participants: Record<string, Participant>;
}

const v = JSON.parse(readFileSync(new URL('./fixtures/frost-rs-dkg-ed25519.json', import.meta.url), 'utf8')) as Vector;
const hex = (s: string): Uint8Array => fromHexStrict(s)!;
const scalar = (s: string): bigint => deserializeScalar(hex(s));
const numbers = Object.keys(v.participants);
const idOf = (n: string): Identifier => Identifier.fromNumber(v.participants[n]!.identifier);
const initial = group().name;

/**
 * The randomness part1 draws, as frost-rs draws it: the constant term, the other coefficients, then the
 * proof nonce k, each as 64 little-endian bytes. The vector gives the coefficients and the proof (R, μ)
 * but not k; k = μ − a_0·c is the one nonce with which part1 yields that μ, and its R = G·k then equals
 * the vector's R only if this library's challenge c (HDKG over identifier ‖ φ_0 ‖ R) is frost-rs's.
 */
function vectorRng(p: Participant, id: Identifier): (n: number) => Uint8Array {
  const proof = hex(p.proofOfKnowledge);
  const [a0, ...rest] = p.coefficients.map(scalar);
  const c = proofOfKnowledgeChallenge(id, hex(p.commitment[0]!), proof.subarray(0, 32));
  const k = mod(deserializeScalar(proof.subarray(32)) - a0! * c);
  const queue = [a0!, ...rest, k];
  return (n) => {
    if (n !== 64 || queue.length === 0) throw new Error('unexpected randomness request');
    return numberToBytesLE(queue.shift()!, 64);
  };
}

describe.each(availableBackends())('frost-rs DKG vector, %s backend', (backend) => {
  beforeAll(() => setGroupBackend(backend));
  afterAll(() => setGroupBackend(initial));

  let round1: Map<string, ReturnType<typeof dkg.part1>>;
  let round2: Map<string, DkgPart2Output>;
  let round3: Map<string, DkgPart3Output>;
  // The vector's round-1 packages, decoded from frost-rs JSON built from it.
  const vectorPackages = new Map<string, DkgRound1Package>(
    numbers.map((n) => {
      const p = v.participants[n]!;
      const json = { header: { version: 0, ciphersuite: 'FROST-ED25519-SHA512-v1' }, commitment: p.commitment, proof_of_knowledge: p.proofOfKnowledge };
      return [idOf(n).toHex(), dkgRound1PackageFromJson(JSON.stringify(json))];
    }),
  );

  it('part1 reproduces every commitment and proof of knowledge', () => {
    round1 = new Map(numbers.map((n) => [idOf(n).toHex(), dkg.part1(idOf(n), v.maxSigners, v.minSigners, { rng: vectorRng(v.participants[n]!, idOf(n)) })]));
    for (const n of numbers) {
      const p = v.participants[n]!;
      const json = dkgRound1PackageToJson(round1.get(idOf(n).toHex())!.package);
      expect(json.commitment).toEqual(p.commitment);
      expect(json.proof_of_knowledge).toBe(p.proofOfKnowledge);
      expect(round1.get(idOf(n).toHex())!.package.equals(vectorPackages.get(idOf(n).toHex())!)).toBe(true);
    }
  });

  it('part2 accepts the vector packages and sends exactly the vector shares', () => {
    round2 = new Map();
    for (const n of numbers) {
      const id = idOf(n);
      const out = dkg.part2(round1.get(id.toHex())!.secretPackage, othersOf(vectorPackages, id));
      round2.set(id.toHex(), out);
      const coefficients = v.participants[n]!.coefficients.map(scalar);
      expect(ownSecretShare(out.secretPackage)).toBe(polynomialEvaluate(id.value, coefficients));
      // What n sends m is what the vector lists as m's share received from n.
      for (const m of numbers.filter((m) => m !== n)) {
        expect(toHex(out.packages.get(idOf(m).toHex())!.toBytes())).toBe(v.participants[m]!.sharesReceived[n]);
      }
      expect(out.packages.size).toBe(numbers.length - 1);
    }
  });

  it('part3 on the vector shares yields the signing shares, verifying shares and group key; one public key package for all', () => {
    round3 = new Map();
    for (const n of numbers) {
      const id = idOf(n);
      const received = new Map<string, DkgRound2Package>(
        Object.entries(v.participants[n]!.sharesReceived).map(([from, s]) => [idOf(from).toHex(), dkgRound2PackageFromJson({ header: { version: 0, ciphersuite: 'FROST-ED25519-SHA512-v1' }, signing_share: s })]),
      );
      const out = dkg.part3(round2.get(id.toHex())!.secretPackage, othersOf(vectorPackages, id), received);
      round3.set(id.toHex(), out);
      expect(toHex(serializeScalar(out.keyPackage.signingShare))).toBe(v.participants[n]!.signingShare);
      expect(toHex(out.keyPackage.verifyingShare.toBytes())).toBe(v.participants[n]!.verifyingShare);
      expect(toHex(out.keyPackage.verifyingKey.toBytes())).toBe(v.verifyingKey);
      expect(out.keyPackage.minSigners).toBe(v.minSigners);
      const pkp = out.publicKeyPackage;
      expect(toHex(pkp.verifyingKeyBytes)).toBe(v.verifyingKey);
      for (const m of numbers) expect(toHex(pkp.verifyingShareBytesOf(idOf(m)))).toBe(v.participants[m]!.verifyingShare);
      pkp.assertConsistent();
    }
    const documents = [...round3.values()].map((o) => JSON.stringify(publicKeyPackageToJson(o.publicKeyPackage)));
    expect(new Set(documents).size).toBe(1);
  });

  it('the shares lie on the summed polynomial, whose constant term (never computed by a participant) is the secret of the group key', () => {
    const sum = (k: number): bigint => numbers.reduce((acc, n) => mod(acc + scalar(v.participants[n]!.coefficients[k]!)), 0n);
    for (const n of numbers) {
      expect(toHex(serializeScalar(polynomialEvaluate(idOf(n).value, [sum(0), sum(1)])))).toBe(v.participants[n]!.signingShare);
    }
    expect(toHex(Point.BASE.multiply(sum(0)).toBytes())).toBe(v.verifyingKey);
  });

  it('any two of the resulting key packages sign under the group key', () => {
    const kps = [...round3.values()].map((o) => o.keyPackage);
    const pkp = round3.values().next().value!.publicKeyPackage;
    const message = new TextEncoder().encode('dkg vector');
    for (const pair of [[0, 1], [0, 2], [1, 2]]) {
      const sig = signWith(pair.map((i) => kps[i]!), pkp, message);
      expect(verifyEd25519(hex(v.verifyingKey), message, sig)).toBe(true);
    }
  });
});
