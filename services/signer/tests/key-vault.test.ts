// The key vault over a real sealed store on disk: opening (checks, crash leftovers, dealer import),
// the state changes of key generation (each durable before the keys in use change), reopening, and
// the read-only vault of a signer without a store.
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identifier, keyPackageToJson, publicKeyPackageToJson, toHex, trustedDealerKeygen, type KeyPackage, type TrustedDealerOutput } from '@hoarfrost/frost';
import { KEY_PACKAGE_FILE, PUBLIC_KEY_PACKAGE_FILE } from '@hoarfrost/rpc';
import { KeyLoadError, type LoadedKey } from '../src/key-store.js';
import { KeyVault } from '../src/key-vault.js';
import { Kek, SealedKeyError, sealKey, writeSealedKey } from '../src/sealed-store.js';
import { expectSignerError, rejectionOf } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'signer-vault-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SIGNER = 'signer-1';
const S1 = '11'.repeat(32);
const S2 = '22'.repeat(32);
const SIG = new Uint8Array(64).fill(7);
const kek = Kek.fromFileBytes(randomBytes(32), 'kek');
const otherKek = Kek.fromFileBytes(randomBytes(32), 'other-kek');

const mint = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
const audit = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
/** New shares of the same group key: what a refresh makes. */
const secret = 0x1234567890abcdefn;
const base = trustedDealerKeygen({ minSigners: 2, maxSigners: 3, secret });
const refreshed = trustedDealerKeygen({ minSigners: 2, maxSigners: 3, secret });

const kpOf = (d: TrustedDealerOutput, n = 1): KeyPackage => d.keyPackages.get(Identifier.fromNumber(n).toHex())!;
const keyOf = (keyId: string, d: TrustedDealerOutput, n = 1): LoadedKey => ({ keyId, keyPackage: kpOf(d, n), publicKeyPackage: d.publicKeyPackage });
const groupKey = (d: TrustedDealerOutput) => toHex(d.publicKeyPackage.verifyingKeyBytes);

let dirs = 0;
const fresh = (name = 'store') => join(root, `${name}-${++dirs}`);

/** A dealer's key directory as frostctl writes it. */
function dealerDir(keys: Record<string, TrustedDealerOutput>, n = 1): string {
  const d = fresh('dealer');
  for (const [keyId, dealt] of Object.entries(keys)) {
    mkdirSync(join(d, keyId), { recursive: true });
    writeFileSync(join(d, keyId, KEY_PACKAGE_FILE), JSON.stringify(keyPackageToJson(kpOf(dealt, n))));
    writeFileSync(join(d, keyId, PUBLIC_KEY_PACKAGE_FILE), JSON.stringify(publicKeyPackageToJson(dealt.publicKeyPackage)));
  }
  return d;
}

const openAt = (dir: string, extra: { importDir?: string; kek?: Kek; signerId?: string } = {}) =>
  KeyVault.open({ dir, kek: extra.kek ?? kek, signerId: extra.signerId ?? SIGNER, ...(extra.importDir ? { importDir: extra.importDir } : {}), now: () => 1_700_000_000_000 });

/** The files of a directory with their bytes: to show that a failed open changed nothing. */
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('hex')]));

/** What the round handlers and the info RPC see. */
const view = (v: KeyVault) => [...v.keys.values()].map((k) => ({ keyId: k.keyId, state: k.state, version: k.version, share: k.keyPackage.signingShare }));

async function openFailure(p: Promise<unknown>): Promise<SealedKeyError> {
  const e = await rejectionOf(p);
  expect(e).toBeInstanceOf(SealedKeyError);
  expect(e).toBeInstanceOf(KeyLoadError);
  return e as SealedKeyError;
}

describe('KeyVault.open', () => {
  it('makes a missing store directory (0700) and opens it with no keys', async () => {
    const dir = fresh();
    const v = await openAt(dir, { importDir: join(root, 'no-such-dealer-dir') });
    expect(v.keys.size).toBe(0);
    expect(v.readOnly).toBe(false);
    expect(v.kekFingerprint).toBe(kek.fingerprintHex);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('imports dealer keys as active version 1, sealed (mode 0600), and reopens them without the dealer directory', async () => {
    const dir = fresh();
    const dealer = dealerDir({ mint, audit });
    const v = await openAt(dir, { importDir: dealer });
    expect(v.imported).toEqual(['audit', 'mint']);
    expect(view(v)).toEqual([
      { keyId: 'audit', state: 'active', version: 1, share: kpOf(audit).signingShare },
      { keyId: 'mint', state: 'active', version: 1, share: kpOf(mint).signingShare },
    ]);
    expect(v.get('mint')!.createdAt).toBe(1_700_000_000_000);
    expect(readdirSync(dir).sort()).toEqual(['audit.key', 'mint.key']);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    rmSync(dealer, { recursive: true });
    expect(view(await openAt(dir))).toEqual(view(v));
  });

  it('skips a dealer key the store already holds (same group key), even when the store has refreshed it', async () => {
    const dir = fresh();
    const v = await openAt(dir, { importDir: dealerDir({ mint: base }) });
    await v.storePending(keyOf('mint', refreshed), S1);
    await v.activate('mint', S1, SIG);
    const before = snapshot(dir);
    const again = await openAt(dir, { importDir: dealerDir({ mint: base, audit }) });
    expect(again.imported).toEqual(['audit']);
    expect(again.get('mint')).toMatchObject({ version: 2, state: 'active' });
    expect(again.get('mint')!.keyPackage.signingShare).toBe(kpOf(refreshed).signingShare);
    expect(snapshot(dir)['mint.key']).toBe(before['mint.key']);
  });

  it('refuses a dealer key whose group key differs from the stored key of that id, naming both, and writes nothing', async () => {
    const dir = fresh();
    await openAt(dir, { importDir: dealerDir({ mint }) });
    const before = snapshot(dir);
    const dealer = dealerDir({ audit, mint: base });
    const e = await openFailure(openAt(dir, { importDir: dealer }));
    expect(e.reason).toBe('import_conflict');
    expect(e.message).toBe(`dealer key "mint" in ${dealer} has group key ${groupKey(base)}, but the sealed store holds key "mint" with group key ${groupKey(mint)}`);
    expect(snapshot(dir)).toEqual(before); // "audit" was not imported either
  });

  it('refuses a store path that is not a directory, naming it', async () => {
    const path = fresh();
    writeFileSync(path, '');
    const e = await openFailure(openAt(path));
    expect(e.reason).toBe('io');
    expect(e.message).toMatch(new RegExp(`^cannot make the sealed store directory ${path}: EEXIST`));
  });

  it('refuses a bad dealer key directory as such', async () => {
    const dealer = dealerDir({ mint });
    writeFileSync(join(dealer, 'mint', KEY_PACKAGE_FILE), '{');
    const e = await openFailure(openAt(fresh(), { importDir: dealer }));
    expect(e.reason).toBe('dealer_keys');
    expect(e.message).toMatch(/^dealer keys to import: key mint: /);
  });

  it('fails on a wrong KEK with both fingerprints, and leaves every file as it was', async () => {
    const dir = fresh();
    await openAt(dir, { importDir: dealerDir({ mint }) });
    writeFileSync(join(dir, '.mint.key.0011aa.tmp'), 'half-written');
    const before = snapshot(dir);
    const e = await openFailure(openAt(dir, { kek: otherKek }));
    expect(e.reason).toBe('wrong_kek');
    expect(e.message).toBe(`sealed key file ${join(dir, 'mint.key')}: sealed with another KEK: fingerprint ${kek.fingerprintHex}, this signer's KEK has ${otherKek.fingerprintHex}`);
    expect(snapshot(dir)).toEqual(before);
  });

  it('fails on a damaged file naming it, never removes or rewrites it, and does not import over it', async () => {
    const dir = fresh();
    await openAt(dir, { importDir: dealerDir({ mint, audit }) });
    const file = join(dir, 'mint.key');
    const bytes = readFileSync(file);
    bytes[bytes.length - 20]! ^= 0x40;
    writeFileSync(file, bytes);
    const before = snapshot(dir);
    const e = await openFailure(openAt(dir, { importDir: dealerDir({ mint }) }));
    expect(e.reason).toBe('corrupted');
    expect(e.message).toBe(`sealed key file ${file}: authentication failed: the file is corrupted or was altered`);
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses a file sealed by another signer, or moved to another key name', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'mint.key'), sealKey({ ...keyOf('mint', mint), state: 'active', version: 1, createdAt: 0 }, 'signer-2', kek));
    expect((await openFailure(openAt(dir))).message).toBe(`sealed key file ${join(dir, 'mint.key')}: sealed for signer "signer-2", this signer is "signer-1"`);
    const moved = fresh();
    mkdirSync(moved);
    writeFileSync(join(moved, 'audit.key'), sealKey({ ...keyOf('mint', mint), state: 'active', version: 1, createdAt: 0 }, SIGNER, kek));
    expect((await openFailure(openAt(moved))).message).toMatch(/audit\.key: holds key "mint", but its name is that of key "audit"/);
  });

  it('ignores and removes the temporary file of an interrupted write, even one holding a whole sealed key', async () => {
    const dir = fresh();
    mkdirSync(dir);
    const whole = sealKey({ ...keyOf('mint', mint), state: 'active', version: 1, createdAt: 0 }, SIGNER, kek);
    writeFileSync(join(dir, '.mint.key.a1b2c3d4e5f6.tmp'), whole);
    writeFileSync(join(dir, '.audit.pending.000000000000.tmp'), whole.subarray(0, 40));
    mkdirSync(join(dir, 'lost+found'));
    const v = await openAt(dir);
    expect(v.keys.size).toBe(0);
    expect(readdirSync(dir)).toEqual(['lost+found']);
  });

  it('removes a pending file left over from an activation that completed (crash between the two steps)', async () => {
    const dir = fresh();
    const v = await openAt(dir);
    await v.storePending(keyOf('mint', base), S1);
    const pendingBytes = readFileSync(join(dir, 'mint.pending'));
    await v.activate('mint', S1, SIG);
    writeFileSync(join(dir, 'mint.pending'), pendingBytes, { mode: 0o600 });
    const again = await openAt(dir);
    expect(view(again)).toEqual([{ keyId: 'mint', state: 'active', version: 1, share: kpOf(base).signingShare }]);
    expect(again.getPending('mint')).toBeUndefined();
    expect(readdirSync(dir)).toEqual(['mint.key']);
  });
});

describe('KeyVault state changes', () => {
  it('a new key: pending (listed, not returned by get), then active with its activation signature; each state survives a reopen', async () => {
    const dir = fresh();
    const v = await openAt(dir);
    await v.storePending(keyOf('mint', mint), S1);
    expect(v.get('mint')).toBeUndefined();
    expect(view(v)).toEqual([{ keyId: 'mint', state: 'pending', version: 1, share: kpOf(mint).signingShare }]);
    expect(v.getPending('mint')).toMatchObject({ state: 'pending', version: 1, sessionId: S1 });
    expect(readdirSync(dir)).toEqual(['mint.pending']);
    expect(view(await openAt(dir))).toEqual(view(v));

    await v.activate('mint', S1, SIG);
    expect(v.get('mint')).toMatchObject({ keyId: 'mint', state: 'active', version: 1 });
    expect(view(v)).toEqual([{ keyId: 'mint', state: 'active', version: 1, share: kpOf(mint).signingShare }]);
    expect(readdirSync(dir)).toEqual(['mint.key']);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    const again = await openAt(dir);
    expect(view(again)).toEqual(view(v));
  });

  it('the same Map instance is updated in place (the round handlers hold it)', async () => {
    const v = await openAt(fresh());
    const keys = v.keys;
    await v.storePending(keyOf('mint', mint), S1);
    await v.activate('mint', S1, SIG);
    expect(keys.get('mint')?.state).toBe('active');
  });

  it('a refresh: the current version signs until the new one is activated, which then replaces it (file and keys)', async () => {
    const dir = fresh();
    const v = await openAt(dir, { importDir: dealerDir({ mint: base }) });
    await v.storePending(keyOf('mint', refreshed), S2);
    expect(view(v)).toEqual([{ keyId: 'mint', state: 'active', version: 1, share: kpOf(base).signingShare }]);
    expect(v.getPending('mint')).toMatchObject({ version: 2, sessionId: S2 });
    expect(readdirSync(dir).sort()).toEqual(['mint.key', 'mint.pending']);
    const reopened = await openAt(dir);
    expect(reopened.get('mint')!.version).toBe(1);
    expect(reopened.getPending('mint')!.version).toBe(2);

    await v.activate('mint', S2, SIG);
    expect(view(v)).toEqual([{ keyId: 'mint', state: 'active', version: 2, share: kpOf(refreshed).signingShare }]);
    expect(readdirSync(dir)).toEqual(['mint.key']);
    expect(view(await openAt(dir))).toEqual(view(v));
  });

  it('refuses a pending version of another group key under an existing id, or of a retired key', async () => {
    const v = await openAt(fresh(), { importDir: dealerDir({ mint: base }) });
    await expectSignerError(v.storePending(keyOf('mint', audit), S1), 'KEY_EXISTS');
    await v.retire('mint');
    await expectSignerError(v.storePending(keyOf('mint', refreshed), S1), 'KEY_RETIRED');
    expect(v.getPending('mint')).toBeUndefined();
  });

  it('refuses a key package that does not belong to its public key package, and a malformed session id', async () => {
    const v = await openAt(fresh());
    expect(await rejectionOf(v.storePending({ keyId: 'mint', keyPackage: kpOf(audit), publicKeyPackage: mint.publicKeyPackage }, S1))).toMatchObject({ code: 'INCONSISTENT_KEY' });
    expect(((await rejectionOf(v.storePending(keyOf('mint', mint), 'abc'))) as Error).message).toMatch(/64 lowercase hex/);
    expect(v.keys.size).toBe(0);
  });

  it('activate refuses another session or no pending key, and changes nothing', async () => {
    const dir = fresh();
    const v = await openAt(dir);
    await expectSignerError(v.activate('mint', S1, SIG), 'DKG_SESSION_UNKNOWN');
    await v.storePending(keyOf('mint', mint), S1);
    await expectSignerError(v.activate('mint', S2, SIG), 'DKG_SESSION_UNKNOWN');
    expect(view(v)[0]!.state).toBe('pending');
    expect(readdirSync(dir)).toEqual(['mint.pending']);
  });

  it('activating the version a session already made active again changes nothing; the active session is known, also after a reopen', async () => {
    const dir = fresh();
    const v = await openAt(dir);
    expect(v.activeSession('mint')).toBeUndefined();
    await v.storePending(keyOf('mint', mint), S1);
    expect(v.activeSession('mint')).toBeUndefined();
    await Promise.all([v.activate('mint', S1, SIG), v.activate('mint', S1, SIG)]);
    await v.activate('mint', S1, SIG);
    expect(v.activeSession('mint')).toBe(S1);
    expect((await openAt(dir)).activeSession('mint')).toBe(S1);
    expect(view(v)).toEqual([{ keyId: 'mint', state: 'active', version: 1, share: kpOf(mint).signingShare }]);
    expect(readdirSync(dir)).toEqual(['mint.key']);
    // Another session's activation is still refused; a dealer's key has no session.
    await expectSignerError(v.activate('mint', S2, SIG), 'DKG_SESSION_UNKNOWN');
    await v.retire('mint');
    expect(v.activeSession('mint')).toBeUndefined();
    await expectSignerError(v.activate('mint', S1, SIG), 'DKG_SESSION_UNKNOWN');
    expect((await openAt(fresh(), { importDir: dealerDir({ mint: base }) })).activeSession('mint')).toBeUndefined();
  });

  it('a later attempt replaces a pending key; discardPending removes only its own session\'s', async () => {
    const dir = fresh();
    const v = await openAt(dir);
    await v.storePending(keyOf('mint', mint), S1);
    await v.storePending(keyOf('mint', audit), S2);
    expect(v.getPending('mint')).toMatchObject({ sessionId: S2 });
    await v.discardPending('mint', S1); // an older session's abort: not this pending key
    expect(v.getPending('mint')).toBeDefined();
    await v.discardPending('mint', S2);
    expect(v.getPending('mint')).toBeUndefined();
    expect(v.keys.size).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    await v.discardPending('never', S2); // nothing to do
  });

  it('a pending key whose activation share was given: marked in its sealed record (also after a reopen), then never replaced or discarded; activated, the mark goes', async () => {
    const dir = fresh();
    const v = await openAt(dir);
    await expectSignerError(v.markActivationShareGiven('mint', S1), 'DKG_SESSION_UNKNOWN');
    await v.storePending(keyOf('mint', mint), S1);
    expect(v.getPending('mint')).toMatchObject({ sessionId: S1, activationShareGiven: false });
    await expectSignerError(v.markActivationShareGiven('mint', S2), 'DKG_SESSION_UNKNOWN');
    await v.markActivationShareGiven('mint', S1);
    await v.markActivationShareGiven('mint', S1); // again: nothing changes
    expect(v.getPending('mint')).toMatchObject({ sessionId: S1, activationShareGiven: true });
    const reopened = await openAt(dir);
    expect(reopened.getPending('mint')).toMatchObject({ sessionId: S1, activationShareGiven: true });
    for (const w of [v, reopened]) {
      const refused = await expectSignerError(w.storePending(keyOf('mint', audit), S2), 'KEY_EXISTS');
      expect(refused.message).toMatch(/whose activation share this signer gave: it may be active on the other signers/);
      await w.discardPending('mint', S1);
      expect(w.getPending('mint')).toMatchObject({ sessionId: S1, activationShareGiven: true });
    }
    expect(readdirSync(dir)).toEqual(['mint.pending']);
    await reopened.activate('mint', S1, SIG);
    expect((await openAt(dir)).get('mint')).toMatchObject({ state: 'active', version: 1 });
    expect(readdirSync(dir)).toEqual(['mint.key']);
  });

  it('the file of begun key generation sessions is in the store directory, which opens with it', async () => {
    const dir = fresh();
    const v = await openAt(dir);
    expect(v.begunSessions().path).toBe(join(dir, 'begun-sessions'));
    await v.begunSessions().save(new Map([[S1, 5]]));
    // Not a key file: the store opens with it, and it is left as it is.
    expect(view(await openAt(dir))).toEqual([]);
    expect([...(await v.begunSessions().load())]).toEqual([[S1, 5]]);
  });

  it('discarding a refresh leaves the current version', async () => {
    const v = await openAt(fresh(), { importDir: dealerDir({ mint: base }) });
    await v.storePending(keyOf('mint', refreshed), S1);
    await v.discardPending('mint', S1);
    expect(view(v)).toEqual([{ keyId: 'mint', state: 'active', version: 1, share: kpOf(base).signingShare }]);
  });

  it('retire: persists, is idempotent, discards a pending refresh, and refuses an unknown key', async () => {
    const dir = fresh();
    const v = await openAt(dir, { importDir: dealerDir({ mint: base }) });
    await v.storePending(keyOf('mint', refreshed), S1);
    await v.retire('mint');
    await v.retire('mint');
    expect(v.get('mint')).toMatchObject({ state: 'retired', version: 1 });
    expect(readdirSync(dir)).toEqual(['mint.key']);
    await expectSignerError(v.activate('mint', S1, SIG), 'DKG_SESSION_UNKNOWN');
    expect((await openAt(dir)).get('mint')).toMatchObject({ state: 'retired', version: 1 });
    await expectSignerError(v.retire('other'), 'UNKNOWN_KEY');
    // A pending-only key is not held for signing: nothing to retire.
    await v.storePending(keyOf('audit', audit), S2);
    await expectSignerError(v.retire('audit'), 'UNKNOWN_KEY');
  });

  it('remove: only a retired key; its share is deleted for good, and a dealer directory still holding it does not bring it back', async () => {
    const dir = fresh();
    const dealer = dealerDir({ mint: base });
    const v = await openAt(dir, { importDir: dealer });
    await expectSignerError(v.remove('mint'), 'KEY_NOT_RETIRED');
    await expectSignerError(v.remove('other'), 'UNKNOWN_KEY');
    expect(v.get('mint')).toMatchObject({ state: 'active' });
    await v.retire('mint');
    await v.remove('mint');
    expect(v.get('mint')).toBeUndefined();
    expect(v.keys.has('mint')).toBe(false);
    expect(readdirSync(dir)).toEqual(['mint.removed']);
    // Started again with the same dealer directory: the removed key stays removed.
    const again = await openAt(dir, { importDir: dealer });
    expect(again.keys.has('mint')).toBe(false);
    expect(again.imported).toEqual([]);
    // A new key under the same id (made by key generation): the dealer's removed one is no conflict for it.
    await again.storePending(keyOf('mint', audit), S1);
    await again.activate('mint', S1, SIG);
    const third = await openAt(dir, { importDir: dealer });
    expect(Buffer.from(third.get('mint')!.publicKeyPackage.verifyingKeyBytes)).toEqual(Buffer.from(audit.publicKeyPackage.verifyingKeyBytes));
    // Removed in turn, both stay removed: the marker keeps every group key removed under the id.
    await third.retire('mint');
    await third.remove('mint');
    const fourth = await openAt(dir, { importDir: dealer });
    expect(fourth.keys.has('mint')).toBe(false);
    expect(fourth.imported).toEqual([]);
  });

  it('a change that cannot be written leaves the keys in use as they were', async () => {
    const dir = fresh();
    const v = await openAt(dir, { importDir: dealerDir({ mint }) });
    const before = view(v);
    rmSync(dir, { recursive: true });
    expect(((await rejectionOf(v.storePending(keyOf('audit', audit), S1))) as Error).message).toMatch(/^cannot write .*audit\.pending/);
    expect(((await rejectionOf(v.retire('mint'))) as Error).message).toMatch(/^cannot write .*mint\.key/);
    expect(view(v)).toEqual(before);
    expect(v.getPending('audit')).toBeUndefined();
    // And the next change, once the directory is back, goes through (a failure does not jam the queue).
    mkdirSync(dir);
    await v.retire('mint');
    expect(v.get('mint')!.state).toBe('retired');
  });

  it('runs concurrent changes one at a time', async () => {
    const dir = fresh();
    const v = await openAt(dir);
    await Promise.all([v.storePending(keyOf('mint', mint), S1), v.activate('mint', S1, SIG), v.retire('mint')]);
    expect((await openAt(dir)).get('mint')).toMatchObject({ state: 'retired', version: 1 });
  });
});

describe('KeyVault.openReadOnly', () => {
  it('serves the dealer key directory as today and refuses every change with DKG_UNAVAILABLE', async () => {
    const v = await KeyVault.openReadOnly(dealerDir({ mint }));
    expect(v.readOnly).toBe(true);
    expect(v.kekFingerprint).toBeUndefined();
    expect(v.get('mint')!.keyPackage.signingShare).toBe(kpOf(mint).signingShare);
    expect(v.get('mint')!.state).toBeUndefined(); // absent = active
    await expectSignerError(v.storePending(keyOf('audit', audit), S1), 'DKG_UNAVAILABLE');
    await expectSignerError(v.activate('mint', S1, SIG), 'DKG_UNAVAILABLE');
    await expectSignerError(v.discardPending('mint', S1), 'DKG_UNAVAILABLE');
    await expectSignerError(v.markActivationShareGiven('mint', S1), 'DKG_UNAVAILABLE');
    await expectSignerError(v.retire('mint'), 'DKG_UNAVAILABLE');
    await expectSignerError(() => v.begunSessions(), 'DKG_UNAVAILABLE');
    expect(v.keys.size).toBe(1);
  });

  it('needs at least one key, as today', async () => {
    const e = await rejectionOf(KeyVault.openReadOnly(join(root, 'absent-keys')));
    expect(e).toBeInstanceOf(KeyLoadError);
    const empty = fresh('empty');
    mkdirSync(empty);
    expect(((await rejectionOf(KeyVault.openReadOnly(empty))) as Error).message).toMatch(/no keys found/);
  });
});

// A sealed file written by writeSealedKey is what open reads (the two ends of one format).
it('writeSealedKey output opens in a vault', async () => {
  const dir = fresh();
  mkdirSync(dir);
  await writeSealedKey(dir, { ...keyOf('mint', mint), state: 'retired', version: 4, createdAt: 5 }, SIGNER, kek);
  expect((await openAt(dir)).get('mint')).toMatchObject({ state: 'retired', version: 4, createdAt: 5 });
  expect(existsSync(join(dir, 'mint.key'))).toBe(true);
});
