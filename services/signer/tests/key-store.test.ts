// Loading key packages from a directory laid out as frostctl writes it and a Secret mount presents it.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identifier, keyPackageToJson, publicKeyPackageToJson, toHex, trustedDealerKeygen, type KeyPackage, type PublicKeyPackage } from '@hoarfrost/frost';
import { KEY_PACKAGE_FILE, PUBLIC_KEY_PACKAGE_FILE } from '@hoarfrost/rpc';
import { KeyLoadError, loadKeys } from '../src/key-store.js';
import { rejectionOf } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'signer-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mint = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
const audit = trustedDealerKeygen({ minSigners: 3, maxSigners: 5 });
const kpOf = (dealt: typeof mint, n: number): KeyPackage => dealt.keyPackages.get(Identifier.fromNumber(n).toHex())!;

let dirs = 0;
/** A fresh, empty key directory. */
const keyDir = (): string => {
  const d = join(root, `keys-${++dirs}`);
  mkdirSync(d);
  return d;
};

type Files = { [KEY_PACKAGE_FILE]?: string; [PUBLIC_KEY_PACKAGE_FILE]?: string };

/** The two files of one key, as frostctl writes them (`undefined` leaves a file out). */
const filesOf = (kp: KeyPackage, pkp: PublicKeyPackage): Files => ({
  [KEY_PACKAGE_FILE]: JSON.stringify(keyPackageToJson(kp), null, 2),
  [PUBLIC_KEY_PACKAGE_FILE]: JSON.stringify(publicKeyPackageToJson(pkp), null, 2),
});

function writeKey(dir: string, keyId: string, files: Files): void {
  mkdirSync(join(dir, keyId), { recursive: true });
  for (const [name, text] of Object.entries(files)) if (text !== undefined) writeFileSync(join(dir, keyId, name), text);
}

/** The KeyLoadError that loading `dir` fails with. */
async function loadFailure(dir: string): Promise<KeyLoadError> {
  const e = await rejectionOf(loadKeys(dir));
  expect(e).toBeInstanceOf(KeyLoadError);
  expect((e as KeyLoadError).name).toBe('KeyLoadError');
  return e as KeyLoadError;
}

describe('loadKeys', () => {
  it('loads every key as written, each share matching its key set', async () => {
    const dir = keyDir();
    writeKey(dir, 'mint-2026', filesOf(kpOf(mint, 2), mint.publicKeyPackage));
    writeKey(dir, 'audit', filesOf(kpOf(audit, 2), audit.publicKeyPackage));
    const keys = await loadKeys(dir);
    expect([...keys.keys()].sort()).toEqual(['audit', 'mint-2026']);
    for (const [keyId, dealt] of [['mint-2026', mint], ['audit', audit]] as const) {
      const k = keys.get(keyId)!;
      expect(k.keyId).toBe(keyId);
      expect(k.keyPackage.identifier.equals(Identifier.fromNumber(2))).toBe(true);
      expect(k.keyPackage.signingShare).toBe(kpOf(dealt, 2).signingShare);
      expect(toHex(k.publicKeyPackage.verifyingKeyBytes)).toBe(toHex(dealt.publicKeyPackage.verifyingKeyBytes));
      expect(k.publicKeyPackage.minSigners).toBe(dealt.publicKeyPackage.minSigners);
    }
  });

  it('reads a Secret mounted at the key-id directory (files are symlinks into ..data)', async () => {
    // The kubelet's layout: <key-id>/..<timestamp>/<files>, <key-id>/..data -> ..<timestamp>, <key-id>/<file> -> ..data/<file>.
    const dir = keyDir();
    const mount = join(dir, 'default');
    writeKey(mount, '..2026_01_01_00_00_00.000000001', filesOf(kpOf(mint, 1), mint.publicKeyPackage));
    symlinkSync('..2026_01_01_00_00_00.000000001', join(mount, '..data'));
    for (const f of [KEY_PACKAGE_FILE, PUBLIC_KEY_PACKAGE_FILE]) symlinkSync(join('..data', f), join(mount, f));
    const keys = await loadKeys(dir);
    expect([...keys.keys()]).toEqual(['default']);
    expect(keys.get('default')!.keyPackage.identifier.equals(Identifier.fromNumber(1))).toBe(true);
  });

  it('skips hidden entries (..data and its target, as a whole-directory Secret mount has) and plain files', async () => {
    const dir = keyDir();
    writeKey(dir, '..2026_01_01_00_00_00.000000001', {});
    symlinkSync('..2026_01_01_00_00_00.000000001', join(dir, '..data'));
    mkdirSync(join(dir, '.cache'));
    writeFileSync(join(dir, 'README'), 'not a key');
    writeKey(dir, 'default', filesOf(kpOf(mint, 3), mint.publicKeyPackage));
    expect([...(await loadKeys(dir)).keys()]).toEqual(['default']);
  });

  it('skips a top-level symlink to a file (a Secret mounted whole at the key directory), as it skips plain files', async () => {
    const dir = keyDir();
    writeFileSync(join(dir, '.README'), 'not a key');
    symlinkSync('.README', join(dir, 'README'));
    writeKey(dir, 'default', filesOf(kpOf(mint, 3), mint.publicKeyPackage));
    expect([...(await loadKeys(dir)).keys()]).toEqual(['default']);
  });

  it('follows a key-id entry that is a symlink to a directory', async () => {
    const dir = keyDir();
    writeKey(dir, '..data', filesOf(kpOf(mint, 1), mint.publicKeyPackage));
    symlinkSync('..data', join(dir, 'default'));
    expect([...(await loadKeys(dir)).keys()]).toEqual(['default']);
  });

  it.each(['bad key', '-leading-dash', 'x'.repeat(65)])('refuses a key directory named %j, naming it', async (name) => {
    const dir = keyDir();
    writeKey(dir, 'default', filesOf(kpOf(mint, 1), mint.publicKeyPackage));
    writeKey(dir, name, filesOf(kpOf(mint, 1), mint.publicKeyPackage));
    const e = await loadFailure(dir);
    expect(e.message).toContain(`"${name}" is not a valid key id`);
  });

  it.each([KEY_PACKAGE_FILE, PUBLIC_KEY_PACKAGE_FILE])('refuses a key whose %s is missing, naming the key and the file', async (missing) => {
    const dir = keyDir();
    writeKey(dir, 'mint', { ...filesOf(kpOf(mint, 1), mint.publicKeyPackage), [missing]: undefined });
    const e = await loadFailure(dir);
    expect(e.message).toMatch(new RegExp(`^key mint: cannot read ${missing.replace('.', '\\.')}: .*ENOENT`));
  });

  it('refuses a key package of another key set: INCONSISTENT_KEY, naming the key', async () => {
    const dir = keyDir();
    writeKey(dir, 'mint', filesOf(kpOf(audit, 1), mint.publicKeyPackage));
    const e = await loadFailure(dir);
    expect(e.message).toMatch(/^key mint: INCONSISTENT_KEY: /);
  });

  it('refuses a public key package whose shares do not lie on one polynomial: INCONSISTENT_KEY', async () => {
    const dir = keyDir();
    const pkp = publicKeyPackageToJson(mint.publicKeyPackage) as { verifying_shares: Record<string, string> };
    // Participant 3's verifying share swapped for another valid point: decodes, but is not on the key polynomial.
    pkp.verifying_shares[Identifier.fromNumber(3).toHex()] = toHex(kpOf(audit, 3).verifyingShare.toBytes());
    writeKey(dir, 'mint', { [KEY_PACKAGE_FILE]: JSON.stringify(keyPackageToJson(kpOf(mint, 1))), [PUBLIC_KEY_PACKAGE_FILE]: JSON.stringify(pkp) });
    const e = await loadFailure(dir);
    expect(e.message).toMatch(/^key mint: INCONSISTENT_KEY: .*not on the key polynomial/);
  });

  it('refuses a key package whose signing share does not match its verifying share: INCONSISTENT_KEY', async () => {
    const dir = keyDir();
    // Participant 2's (valid) share under participant 1's verifying share.
    const kp = { ...keyPackageToJson(kpOf(mint, 1)), signing_share: keyPackageToJson(kpOf(mint, 2)).signing_share };
    writeKey(dir, 'mint', { ...filesOf(kpOf(mint, 1), mint.publicKeyPackage), [KEY_PACKAGE_FILE]: JSON.stringify(kp) });
    expect((await loadFailure(dir)).message).toMatch(/^key mint: INCONSISTENT_KEY: signing share does not match/);
  });

  it.each([
    ['is not JSON', '{', /^key mint: MALFORMED_INPUT: /],
    ['has an unknown field', JSON.stringify({ ...keyPackageToJson(kpOf(mint, 1)), extra: 1 }), /^key mint: UNKNOWN_FIELD: /],
  ])('refuses a key package that %s, with the frost code', async (_name, text, message) => {
    const dir = keyDir();
    writeKey(dir, 'mint', { ...filesOf(kpOf(mint, 1), mint.publicKeyPackage), [KEY_PACKAGE_FILE]: text });
    expect((await loadFailure(dir)).message).toMatch(message);
  });

  it('one bad key fails the whole load, even next to good ones', async () => {
    const dir = keyDir();
    writeKey(dir, 'a-good', filesOf(kpOf(mint, 1), mint.publicKeyPackage));
    writeKey(dir, 'z-bad', filesOf(kpOf(audit, 1), mint.publicKeyPackage));
    expect((await loadFailure(dir)).message).toMatch(/^key z-bad: INCONSISTENT_KEY/);
  });

  it('refuses an empty directory (and one with only hidden entries), naming the expected layout', async () => {
    const empty = keyDir();
    expect((await loadFailure(empty)).message).toBe(`no keys found in ${empty} (expected <key-id>/${KEY_PACKAGE_FILE})`);
    const hidden = keyDir();
    mkdirSync(join(hidden, '..data'));
    expect((await loadFailure(hidden)).message).toMatch(/^no keys found in /);
  });

  it('refuses a directory that does not exist', async () => {
    const missing = join(root, 'no-such-dir');
    expect((await loadFailure(missing)).message).toMatch(new RegExp(`^cannot read key directory ${missing}: .*ENOENT`));
  });
});
