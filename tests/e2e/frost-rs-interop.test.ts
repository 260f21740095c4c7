// JSON interoperability with the reference implementation: the frost-ed25519 crate (3.x) reads the key
// files frostctl writes and signs with them, and this library reads the files frost-rs writes and signs
// with them; key generation, refresh and repair run with some participants on each implementation,
// exchanging only frost-rs serde JSON. Needs cargo (required in CI; skipped loudly elsewhere).
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FrostError,
  Identifier,
  RepairDelta,
  RepairSigma,
  SigningPackage,
  aggregate,
  dkg,
  dkgRound1PackageFromJson,
  dkgRound1PackageToJson,
  dkgRound2PackageFromJson,
  dkgRound2PackageToJson,
  fromHexStrict,
  keyPackageFromJson,
  keyPackageToJson,
  publicKeyPackageFromJson,
  publicKeyPackageToJson,
  refreshDkgPart1,
  refreshDkgPart2,
  refreshDkgShares,
  repairSharePart1,
  repairSharePart2,
  repairSharePart3,
  round1,
  round2,
  signatureShareFromJson,
  signatureShareToJson,
  signingCommitmentsFromJson,
  signingCommitmentsToJson,
  signingPackageToJson,
  toHex,
  type DkgRound1SecretPackage,
  type DkgRound2SecretPackage,
  type SignatureShare,
  type SigningNonces,
} from '@hoarfrost/frost';
import { ed25519Verifies, opensslVerifies } from '@hoarfrost/testkit/support';

const repo = fileURLToPath(new URL('../../', import.meta.url));
// The frost-ed25519 side is its own crate under tests/ (src/main.rs, pinned by its Cargo.lock).
const crate = join(repo, 'tests/frost-rs');
const haveCargo = spawnSync('cargo', ['--version']).status === 0;
if (!haveCargo && process.env.CI === 'true') throw new Error('cargo is required in CI for the frost-rs interoperability test');
if (!haveCargo) console.warn('\n!!! cargo not found: the frost-rs interoperability test is SKIPPED !!!\n');

function interop(...args: string[]): string {
  return execFileSync(join(crate, 'target/release/interop'), args, { encoding: 'utf8' }).trim();
}

(haveCargo ? describe : describe.skip)('frost-rs (frost-ed25519 3.x) interoperability', () => {
  it('builds the interop helper', () => {
    execFileSync('cargo', ['build', '--release', '--locked', '--quiet'], { cwd: crate, stdio: ['ignore', 'ignore', 'inherit'] });
  }, 300_000);

  it('frost-rs signs with key files written by frostctl; the signature verifies', () => {
    const dir = mkdtempSync(join(tmpdir(), 'interop-ours-'));
    execFileSync(process.execPath, [join(repo, 'packages/cli/dist/main.js'), 'keygen', '--threshold', '3', '--signers', '5', '--out', dir]);
    const message = randomBytes(40);
    const sig = Buffer.from(interop('sign', dir, message.toString('hex'), '1,3,5'), 'hex');
    const pkp = publicKeyPackageFromJson(readFileSync(join(dir, 'public-key-package.json'), 'utf8'));
    expect(ed25519Verifies(pkp.verifyingKeyBytes, message, sig)).toBe(true);
  });

  it('this library reads key files written by frost-rs, re-encodes them byte-identically, and signs with them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'interop-theirs-'));
    interop('keygen', '2', '3', dir);
    const pkp = publicKeyPackageFromJson(readFileSync(join(dir, 'public-key-package.json'), 'utf8'));
    pkp.assertConsistent();
    expect(pkp.minSigners).toBe(2);
    const kps = [1, 2, 3].map((i) => {
      const text = readFileSync(join(dir, `key-package-${i}.json`), 'utf8');
      const kp = keyPackageFromJson(text);
      kp.assertMatches(pkp);
      expect(JSON.stringify(keyPackageToJson(kp))).toBe(JSON.stringify(JSON.parse(text)));
      return kp;
    });
    const message = randomBytes(24);
    const signers = [kps[0]!, kps[2]!];
    const commits = signers.map((kp) => ({ kp, ...round1.commit(kp.signingShare) }));
    const pkg = new SigningPackage(commits.map((c) => ({ identifier: c.kp.identifier, commitments: c.commitments })), message);
    const shares = new Map<string, SignatureShare>(commits.map((c) => [c.kp.identifier.toHex(), round2.sign(pkg, c.nonces, c.kp)]));
    expect(ed25519Verifies(pkp.verifyingKeyBytes, message, aggregate(pkg, shares, pkp).toBytes())).toBe(true);
    expect(Identifier.fromNumber(3).equals(kps[2]!.identifier)).toBe(true);
  });

  it('a public key package without min_signers (frost-rs 2.x) gets its threshold inferred', () => {
    const dir = mkdtempSync(join(tmpdir(), 'interop-v2-'));
    interop('keygen', '3', '5', dir);
    const doc = JSON.parse(readFileSync(join(dir, 'public-key-package.json'), 'utf8')) as Record<string, unknown>;
    delete doc.min_signers;
    expect(publicKeyPackageFromJson(doc).minSigners).toBe(3);
  });
});

// --- key generation, refresh and repair with mixed implementations -------------------------------

type Json = Record<string, unknown>;
type Kind = 'dkg' | 'refresh';
/** Packages as JSON text, by the identifier hex of their sender. */
type Texts = Map<string, string>;

/** One protocol step of the frost-ed25519 crate: a JSON request on stdin, a JSON answer on stdout. */
function rs(step: string, request: Json): Json {
  const r = spawnSync(join(crate, 'target/release/interop'), [step], { input: JSON.stringify(request), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`frost-rs ${step}: ${r.stdout.trim() || r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Json;
}

const parseAll = (texts: Texts): Json => Object.fromEntries([...texts].map(([k, v]) => [k, JSON.parse(v) as unknown]));
const textsOf = (o: unknown): Texts => new Map(Object.entries(o as Json).map(([k, v]) => [k, JSON.stringify(v)]));

/** Key material of one participant, as the JSON documents it would store. */
interface KeyFiles {
  keyPackage: string;
  publicKeyPackage: string;
}

/** A DKG/refresh participant that speaks only frost-rs JSON, on either implementation. */
interface Party {
  readonly id: Identifier;
  readonly impl: 'frost-rs' | 'this library';
  round1(kind: Kind, maxSigners: number, minSigners: number): string;
  round2(kind: Kind, received: Texts): Texts;
  finish(kind: Kind, received1: Texts, received2: Texts, old?: KeyFiles): KeyFiles;
}

class RsParty implements Party {
  readonly impl = 'frost-rs';
  #secret: unknown;
  constructor(readonly id: Identifier) {}
  round1(kind: Kind, maxSigners: number, minSigners: number): string {
    const out = rs(`${kind}-part1`, { identifier: this.id.toHex(), max_signers: maxSigners, min_signers: minSigners });
    this.#secret = out.secret_package;
    return JSON.stringify(out.package);
  }
  round2(kind: Kind, received: Texts): Texts {
    const out = rs(`${kind}-part2`, { secret_package: this.#secret, round1_packages: parseAll(received) });
    this.#secret = out.secret_package;
    return textsOf(out.round2_packages);
  }
  finish(kind: Kind, received1: Texts, received2: Texts, old?: KeyFiles): KeyFiles {
    const request: Json = { secret_package: this.#secret, round1_packages: parseAll(received1), round2_packages: parseAll(received2) };
    if (old) Object.assign(request, { old_key_package: JSON.parse(old.keyPackage), old_public_key_package: JSON.parse(old.publicKeyPackage) });
    const out = rs(kind === 'dkg' ? 'dkg-part3' : 'refresh-shares', request);
    return { keyPackage: JSON.stringify(out.key_package), publicKeyPackage: JSON.stringify(out.public_key_package) };
  }
}

class TsParty implements Party {
  readonly impl = 'this library';
  #secret1: DkgRound1SecretPackage | undefined;
  #secret2: DkgRound2SecretPackage | undefined;
  constructor(readonly id: Identifier) {}
  round1(kind: Kind, maxSigners: number, minSigners: number): string {
    const out = (kind === 'dkg' ? dkg.part1 : refreshDkgPart1)(this.id, maxSigners, minSigners);
    this.#secret1 = out.secretPackage;
    return JSON.stringify(dkgRound1PackageToJson(out.package));
  }
  round2(kind: Kind, received: Texts): Texts {
    const out = (kind === 'dkg' ? dkg.part2 : refreshDkgPart2)(this.#secret1!, decode1(received));
    this.#secret2 = out.secretPackage;
    return new Map([...out.packages].map(([k, p]) => [k, JSON.stringify(dkgRound2PackageToJson(p))]));
  }
  finish(kind: Kind, received1: Texts, received2: Texts, old?: KeyFiles): KeyFiles {
    const round2Packages = new Map([...received2].map(([k, v]) => [k, dkgRound2PackageFromJson(v, { sender: Identifier.fromHex(k) })]));
    const out =
      kind === 'dkg'
        ? dkg.part3(this.#secret2!, decode1(received1), round2Packages)
        : refreshDkgShares(this.#secret2!, decode1(received1), round2Packages, publicKeyPackageFromJson(old!.publicKeyPackage), keyPackageFromJson(old!.keyPackage));
    return { keyPackage: JSON.stringify(keyPackageToJson(out.keyPackage)), publicKeyPackage: JSON.stringify(publicKeyPackageToJson(out.publicKeyPackage)) };
  }
}

/** Decodes round-1 packages, checking that this library writes each back exactly as it was received. */
function decode1(texts: Texts): Map<string, ReturnType<typeof dkgRound1PackageFromJson>> {
  return new Map(
    [...texts].map(([k, v]) => {
      const pkg = dkgRound1PackageFromJson(v, { sender: Identifier.fromHex(k) });
      expect(JSON.stringify(dkgRound1PackageToJson(pkg))).toBe(v);
      return [k, pkg];
    }),
  );
}

/**
 * A whole run among `parties`: round-1 packages to everyone, round-2 packages to their recipient only, all
 * as JSON text. Returns each participant's key files.
 */
function run(kind: Kind, parties: readonly Party[], minSigners: number, old?: ReadonlyMap<string, KeyFiles>): Map<string, KeyFiles> {
  const hex = (p: Party): string => p.id.toHex();
  const r1 = new Map(parties.map((p) => [hex(p), p.round1(kind, parties.length, minSigners)]));
  const othersOf = (p: Party): Texts => new Map([...r1].filter(([k]) => k !== hex(p)));
  const r2 = new Map(parties.map((p) => [hex(p), p.round2(kind, othersOf(p))]));
  for (const [sender, packages] of r2) {
    // Every round-2 package is in the frost-rs layout, whoever wrote it.
    for (const text of packages.values()) expect(JSON.stringify(dkgRound2PackageToJson(dkgRound2PackageFromJson(text, { sender: Identifier.fromHex(sender) })))).toBe(text);
  }
  const addressedTo = (p: Party): Texts => new Map([...r2].filter(([k]) => k !== hex(p)).map(([k, packages]) => [k, packages.get(hex(p))!]));
  return new Map(parties.map((p) => [hex(p), p.finish(kind, othersOf(p), addressedTo(p), old?.get(hex(p)))]));
}

/** The parties for a layout such as 'rs ts rs' (participant i + 1 on the i-th implementation). */
function parties(layout: string): Party[] {
  return layout.split(' ').map((impl, i) => (impl === 'rs' ? new RsParty(Identifier.fromNumber(i + 1)) : new TsParty(Identifier.fromNumber(i + 1))));
}

/**
 * A signing among `signers` (key package JSON, and which implementation holds it): commitments and
 * signature shares from each signer's own implementation, exchanged as JSON; aggregated by this library
 * and, when it succeeds, by frost-rs too, which must produce the same signature.
 */
function mixedSign(signers: readonly { impl: 'rs' | 'ts'; keyPackage: string }[], publicKeyPackage: string, message: Uint8Array): Uint8Array {
  const pkp = publicKeyPackageFromJson(publicKeyPackage);
  const state = signers.map((s) => {
    const kp = keyPackageFromJson(s.keyPackage);
    if (s.impl === 'ts') {
      const { nonces, commitments } = round1.commit(kp.signingShare);
      return { ...s, kp, nonces: nonces as SigningNonces | Json, commitments: JSON.stringify(signingCommitmentsToJson(commitments)) };
    }
    const out = rs('commit', { key_package: JSON.parse(s.keyPackage) });
    return { ...s, kp, nonces: out.nonces as Json, commitments: JSON.stringify(out.commitments) };
  });
  const pkg = new SigningPackage(state.map((s) => ({ identifier: s.kp.identifier, commitments: signingCommitmentsFromJson(s.commitments) })), message);
  const pkgJson = signingPackageToJson(pkg);
  const shareTexts = new Map(
    state.map((s) => {
      const text =
        s.impl === 'ts'
          ? JSON.stringify(signatureShareToJson(round2.sign(pkg, s.nonces as SigningNonces, s.kp)))
          : JSON.stringify(rs('sign-share', { signing_package: pkgJson, nonces: s.nonces, key_package: JSON.parse(s.keyPackage) }).signature_share);
      return [s.kp.identifier.toHex(), text] as const;
    }),
  );
  const shares = new Map<string, SignatureShare>([...shareTexts].map(([k, v]) => [k, signatureShareFromJson(v)]));
  const signature = aggregate(pkg, shares, pkp).toBytes();
  const theirs = rs('aggregate', { signing_package: pkgJson, signature_shares: parseAll(shareTexts), public_key_package: JSON.parse(publicKeyPackage) });
  expect(theirs.signature).toBe(toHex(signature));
  return signature;
}

/** The one public key package every participant ended with (byte-identical JSON), and its verifying key. */
function agreedPublicKeyPackage(keys: ReadonlyMap<string, KeyFiles>): string {
  const documents = new Set([...keys.values()].map((k) => k.publicKeyPackage));
  expect(documents.size).toBe(1);
  const text = [...documents][0]!;
  publicKeyPackageFromJson(text).assertConsistent();
  for (const k of keys.values()) keyPackageFromJson(k.keyPackage).assertMatches(publicKeyPackageFromJson(text));
  return text;
}

(haveCargo ? describe : describe.skip)('frost-rs (frost-ed25519 3.x) interoperability: DKG, refresh, repair', () => {
  it('builds the interop helper', () => {
    execFileSync('cargo', ['build', '--release', '--locked', '--quiet'], { cwd: crate, stdio: ['ignore', 'ignore', 'inherit'] });
  }, 300_000);

  it('fed the same randomness, both implementations write byte-identical round-1 packages (DKG and refresh) and repair deltas', () => {
    const id = Identifier.fromNumber(3);
    for (const [kind, t] of [['dkg', 2], ['dkg', 3], ['refresh', 3]] as const) {
      const randomness = randomBytes(64 * 8);
      const queue = Buffer.from(randomness);
      let offset = 0;
      const rng = (n: number): Uint8Array => Uint8Array.from(queue.subarray(offset, (offset += n)));
      const ours = (kind === 'dkg' ? dkg.part1 : refreshDkgPart1)(id, 4, t, { rng });
      const theirs = rs(`${kind}-part1`, { identifier: id.toHex(), max_signers: 4, min_signers: t, randomness: randomness.toString('hex') });
      expect(JSON.stringify(dkgRound1PackageToJson(ours.package))).toBe(JSON.stringify(theirs.package));
    }
    const keys = run('dkg', parties('ts ts ts'), 2);
    const kpText = keys.get(Identifier.fromNumber(1).toHex())!.keyPackage;
    const helpers = [1, 2, 4].map((i) => Identifier.fromNumber(i));
    const randomness = randomBytes(64 * 2);
    let offset = 0;
    const ours = repairSharePart1(helpers, keyPackageFromJson(kpText), Identifier.fromNumber(3), (n) => Uint8Array.from(randomness.subarray(offset, (offset += n))));
    const theirs = rs('repair-part1', { helpers: helpers.map((h) => h.toHex()), key_package: JSON.parse(kpText), participant: Identifier.fromNumber(3).toHex(), randomness: randomness.toString('hex') });
    expect(Object.fromEntries([...ours].map(([k, d]) => [k, toHex(d.toBytes())]))).toEqual(theirs.deltas);
  });

  describe.each([
    ['2-of-3', 2, 'rs ts rs', [1, 2], 'ts rs ts'],
    ['3-of-5', 3, 'ts rs ts rs ts', [2, 3, 5], 'rs ts rs ts'],
  ])('%s DKG (t = %i) among %s, then a refresh', (_name, t, layout, quorum, refreshLayout) => {
    const message = randomBytes(32);
    let keys: Map<string, KeyFiles>;
    let pkpText: string;
    let refreshed: Map<string, KeyFiles>;
    const implOf = (layoutText: string, i: number): 'rs' | 'ts' => layoutText.split(' ')[i - 1] as 'rs' | 'ts';
    const filesOf = (m: ReadonlyMap<string, KeyFiles>, i: number): KeyFiles => m.get(Identifier.fromNumber(i).toHex())!;

    it('ends with byte-identical public key packages; a mixed quorum signs, and node:crypto and OpenSSL accept the signature', () => {
      keys = run('dkg', parties(layout), t);
      pkpText = agreedPublicKeyPackage(keys);
      expect(publicKeyPackageFromJson(pkpText).minSigners).toBe(t);
      const signers = quorum.map((i) => ({ impl: implOf(layout, i), keyPackage: filesOf(keys, i).keyPackage }));
      expect(new Set(signers.map((s) => s.impl)).size).toBe(2);
      const sig = mixedSign(signers, pkpText, message);
      const groupKey = publicKeyPackageFromJson(pkpText).verifyingKeyBytes;
      expect(ed25519Verifies(groupKey, message, sig)).toBe(true);
      expect(opensslVerifies(groupKey, message, sig)).toBe(true);
      expect(opensslVerifies(groupKey, randomBytes(32), sig)).toBe(false);
    });

    it('a refresh among all but (for 3-of-5) the last participant keeps the group key; a mixed quorum of refreshed shares signs', () => {
      // The refresh participants keep their identifiers; their implementations are swapped around.
      const refreshParties = refreshLayout.split(' ').map((impl, i) => (impl === 'rs' ? new RsParty(Identifier.fromNumber(i + 1)) : new TsParty(Identifier.fromNumber(i + 1))));
      refreshed = run('refresh', refreshParties, t, keys);
      const refreshedPkp = agreedPublicKeyPackage(refreshed);
      const before = publicKeyPackageFromJson(pkpText);
      const after = publicKeyPackageFromJson(refreshedPkp);
      expect(toHex(after.verifyingKeyBytes)).toBe(toHex(before.verifyingKeyBytes));
      expect(after.maxSigners).toBe(refreshParties.length);
      for (const id of after.identifiers) expect(toHex(after.verifyingShareBytesOf(id))).not.toBe(toHex(before.verifyingShareBytesOf(id)));
      // The last t refresh participants.
      const ids = refreshParties.map((p) => p.id.toNumber()!).slice(-t);
      const chosen = ids.map((i) => ({ impl: implOf(refreshLayout, i), keyPackage: filesOf(refreshed, i).keyPackage }));
      expect(new Set(chosen.map((s) => s.impl)).size).toBe(2);
      const sig = mixedSign(chosen, refreshedPkp, message);
      expect(ed25519Verifies(after.verifyingKeyBytes, message, sig)).toBe(true);
      expect(opensslVerifies(after.verifyingKeyBytes, message, sig)).toBe(true);
    });

    it('a quorum mixing one old share and refreshed ones does not sign: the old share is named under the new key set', () => {
      const refreshedPkp = [...refreshed.values()][0]!.publicKeyPackage;
      const ids = [1, 2, 3].slice(0, t);
      const signers = ids.map((i, k) => ({ impl: implOf(refreshLayout, i), keyPackage: (k === 0 ? filesOf(keys, i) : filesOf(refreshed, i)).keyPackage }));
      let error: unknown;
      try {
        mixedSign(signers, refreshedPkp, message);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FrostError);
      expect((error as FrostError).code).toBe('INVALID_SIGNATURE_SHARE');
      expect((error as FrostError).culprits).toEqual([Identifier.fromNumber(ids[0]!).toHex()]);
    });
  });

  it('repairs a lost share with helpers on both implementations, for a participant on either', () => {
    const keys = run('dkg', parties('ts rs ts rs ts'), 3);
    const pkpText = agreedPublicKeyPackage(keys);
    const files = (i: number): KeyFiles => keys.get(Identifier.fromNumber(i).toHex())!;
    const impls = ['ts', 'rs', 'ts', 'rs', 'ts'];
    for (const [lost, helperNumbers, repairer] of [[5, [1, 2, 4], 'ts'], [2, [3, 4, 5], 'rs']] as const) {
      const helpers = helperNumbers.map((i) => Identifier.fromNumber(i));
      const participant = Identifier.fromNumber(lost);
      // Part 1 on each helper's implementation: deltas (hex) for every helper.
      const deltas = new Map(
        helperNumbers.map((i) => {
          const out =
            impls[i - 1] === 'ts'
              ? Object.fromEntries([...repairSharePart1(helpers, keyPackageFromJson(files(i).keyPackage), participant)].map(([k, d]) => [k, toHex(d.toBytes())]))
              : (rs('repair-part1', { helpers: helpers.map((h) => h.toHex()), key_package: JSON.parse(files(i).keyPackage), participant: participant.toHex() }).deltas as Record<string, string>);
          return [i, out] as const;
        }),
      );
      // Part 2: each helper sums the deltas addressed to it into a sigma (hex).
      const sigmas = helperNumbers.map((j) => {
        const mine = helperNumbers.map((i) => deltas.get(i)![Identifier.fromNumber(j).toHex()]!);
        return impls[j - 1] === 'ts' ? toHex(repairSharePart2(mine.map((h) => RepairDelta.fromBytes(fromHexStrict(h)!))).toBytes()) : (rs('repair-part2', { deltas: mine }).sigma as string);
      });
      // Part 3 on the repaired participant's implementation: its key package, exactly the lost one.
      const repaired =
        repairer === 'ts'
          ? JSON.stringify(keyPackageToJson(repairSharePart3(sigmas.map((h) => RepairSigma.fromBytes(fromHexStrict(h)!)), participant, publicKeyPackageFromJson(pkpText))))
          : JSON.stringify(rs('repair-part3', { sigmas, identifier: participant.toHex(), public_key_package: JSON.parse(pkpText) }).key_package);
      expect(repaired).toBe(files(lost).keyPackage);
    }
  });
});
