// Shared helpers for the DKG, refresh and repair tests: whole runs among in-process participants, and a
// deterministic randomness source.
import { createHash } from 'node:crypto';
import {
  Identifier,
  SigningPackage,
  aggregate,
  dkg,
  refreshDkgPart1,
  refreshDkgPart2,
  refreshDkgShares,
  round1,
  round2,
  type DkgRound1Package,
  type DkgRound1SecretPackage,
  type DkgRound2Package,
  type DkgRound2SecretPackage,
  type KeyPackage,
  type PublicKeyPackage,
  type RandomSource,
  type SignatureShare,
} from '../src/index.js';

/** Identifiers 1..n. */
export const numbered = (n: number): Identifier[] => Array.from({ length: n }, (_, i) => Identifier.fromNumber(i + 1));

/** A deterministic byte stream (SHA-512 in counter mode over `seed`). */
export function seededRng(seed: string): RandomSource {
  let counter = 0;
  let pool = Buffer.alloc(0);
  return (n) => {
    while (pool.length < n) {
      pool = Buffer.concat([pool, createHash('sha512').update(`${seed}/${counter++}`).digest()]);
    }
    const out = new Uint8Array(pool.subarray(0, n));
    pool = pool.subarray(n);
    return out;
  };
}

/** `map` without the entry of `id`. */
export function othersOf<T>(map: ReadonlyMap<string, T>, id: Identifier): Map<string, T> {
  return new Map([...map].filter(([k]) => k !== id.toHex()));
}

export interface DkgRun {
  ids: Identifier[];
  round1: Map<string, { secretPackage: DkgRound1SecretPackage; package: DkgRound1Package }>;
  /** Round-1 packages by sender. */
  packages1: Map<string, DkgRound1Package>;
  round2: Map<string, { secretPackage: DkgRound2SecretPackage; packages: Map<string, DkgRound2Package> }>;
  /** Round-2 packages addressed to `recipient`, by sender. */
  received2(recipient: Identifier): Map<string, DkgRound2Package>;
  keyPackages: Map<string, KeyPackage>;
  publicKeyPackages: Map<string, PublicKeyPackage>;
}

export interface DkgRunOptions {
  ids?: Identifier[];
  /** Tell part1 the participant list. */
  participantsKnown?: boolean;
  rngFor?: (id: Identifier) => RandomSource;
  /** Run part 3 too (default true). */
  finish?: boolean;
}

/** A whole t-of-n DKG among in-process participants. */
export function runDkg(t: number, n: number, options: DkgRunOptions = {}): DkgRun {
  const ids = options.ids ?? numbered(n);
  const round1 = new Map(
    ids.map((id) => [
      id.toHex(),
      dkg.part1(id, n, t, { participants: options.participantsKnown ? ids : undefined, rng: options.rngFor?.(id) }),
    ]),
  );
  const packages1 = new Map([...round1].map(([k, v]) => [k, v.package]));
  const round2 = new Map(ids.map((id) => [id.toHex(), dkg.part2(round1.get(id.toHex())!.secretPackage, othersOf(packages1, id))]));
  const received2 = (recipient: Identifier): Map<string, DkgRound2Package> =>
    new Map([...round2].filter(([k]) => k !== recipient.toHex()).map(([k, v]) => [k, v.packages.get(recipient.toHex())!]));
  const keyPackages = new Map<string, KeyPackage>();
  const publicKeyPackages = new Map<string, PublicKeyPackage>();
  if (options.finish !== false) {
    for (const id of ids) {
      const out = dkg.part3(round2.get(id.toHex())!.secretPackage, othersOf(packages1, id), received2(id));
      keyPackages.set(id.toHex(), out.keyPackage);
      publicKeyPackages.set(id.toHex(), out.publicKeyPackage);
    }
  }
  return { ids, round1, packages1, round2, received2, keyPackages, publicKeyPackages };
}

/** A whole refresh among `ids` (a subset of the key set), each with its old key package. */
export function runRefresh(
  old: { keyPackages: ReadonlyMap<string, KeyPackage>; publicKeyPackage: PublicKeyPackage },
  ids: Identifier[],
  rngFor?: (id: Identifier) => RandomSource,
): { keyPackages: Map<string, KeyPackage>; publicKeyPackages: Map<string, PublicKeyPackage> } {
  const t = old.publicKeyPackage.minSigners;
  const r1 = new Map(ids.map((id) => [id.toHex(), refreshDkgPart1(id, ids.length, t, { rng: rngFor?.(id) })]));
  const packages1 = new Map([...r1].map(([k, v]) => [k, v.package]));
  const r2 = new Map(ids.map((id) => [id.toHex(), refreshDkgPart2(r1.get(id.toHex())!.secretPackage, othersOf(packages1, id))]));
  const keyPackages = new Map<string, KeyPackage>();
  const publicKeyPackages = new Map<string, PublicKeyPackage>();
  for (const id of ids) {
    const received = new Map([...r2].filter(([k]) => k !== id.toHex()).map(([k, v]) => [k, v.packages.get(id.toHex())!]));
    const out = refreshDkgShares(r2.get(id.toHex())!.secretPackage, othersOf(packages1, id), received, old.publicKeyPackage, old.keyPackages.get(id.toHex())!);
    keyPackages.set(id.toHex(), out.keyPackage);
    publicKeyPackages.set(id.toHex(), out.publicKeyPackage);
  }
  return { keyPackages, publicKeyPackages };
}

/** Signs `message` with `signers` under `pkp` and aggregates (throws what aggregate throws). */
export function signWith(signers: readonly KeyPackage[], pkp: PublicKeyPackage, message: Uint8Array): Uint8Array {
  const commits = signers.map((kp) => ({ kp, ...round1.commit(kp.signingShare) }));
  const pkg = new SigningPackage(commits.map((c) => ({ identifier: c.kp.identifier, commitments: c.commitments })), message);
  const shares = new Map<string, SignatureShare>(commits.map((c) => [c.kp.identifier.toHex(), round2.sign(pkg, c.nonces, c.kp)]));
  return aggregate(pkg, shares, pkp).toBytes();
}
