// JSON interoperability with the reference implementation: the frost-ed25519 crate (3.x) reads the key
// files frostctl writes and signs with them, and this library reads the files frost-rs writes and signs
// with them. Needs cargo (required in CI; skipped loudly elsewhere).
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Identifier,
  SigningPackage,
  aggregate,
  keyPackageFromJson,
  keyPackageToJson,
  publicKeyPackageFromJson,
  round1,
  round2,
  type SignatureShare,
} from '@hoarfrost/frost';
import { ed25519Verifies } from '@hoarfrost/testkit/support';

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
