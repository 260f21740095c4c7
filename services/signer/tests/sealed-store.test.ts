// Sealed key files: the KEK file forms, the file format (header in the clear, AES-256-GCM over the
// record, the header as associated data), every check made on reading, and the atomic write.
import { afterAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identifier, serializeScalar, toHex, trustedDealerKeygen, type KeyPackage } from '@hoarfrost/frost';
import {
  BEGUN_SESSIONS_FILE,
  BegunSessionsFile,
  Kek,
  SealedKeyError,
  encodeBegunSessions,
  parseBegunSessions,
  isTemporaryFileName,
  parseSealedFileName,
  readSealedHeader,
  readSealedKey,
  sealKey,
  unsealKey,
  writeFileAtomic,
  writeSealedKey,
  type SealedKey,
} from '../src/sealed-store.js';
import { rejectionOf } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'signer-sealed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SIGNER = 'signer-1';
const SESSION = 'ab'.repeat(32);
const dealt = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
const other = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
const kpOf = (d: typeof dealt, n: number): KeyPackage => d.keyPackages.get(Identifier.fromNumber(n).toHex())!;
const kekBytes = randomBytes(32);
const kek = Kek.fromFileBytes(kekBytes, 'kek');
const otherKek = Kek.fromFileBytes(randomBytes(32), 'other-kek');

function sealed(overrides: Partial<SealedKey> = {}): SealedKey {
  return { keyId: 'mint', keyPackage: kpOf(dealt, 1), publicKeyPackage: dealt.publicKeyPackage, state: 'active', version: 1, createdAt: 1_700_000_000_000, ...overrides };
}

/** The SealedKeyError `f` throws. */
function failure(f: () => unknown): SealedKeyError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SealedKeyError);
    return e as SealedKeyError;
  }
  throw new Error('expected a SealedKeyError');
}

const open = (bytes: Uint8Array, k = kek, signerId = SIGNER) => unsealKey(bytes, { kek: k, signerId, expect: { keyId: 'mint', slot: 'current' }, what: 'sealed key file x/mint.key' });

/** Sets the header check of a hand-edited header again, as a careful forger would. */
function rechecked(bytes: Uint8Array): Uint8Array {
  const b = Buffer.from(bytes);
  const h = readHeaderEnd(b);
  createHash('sha256').update(b.subarray(0, h)).digest().subarray(0, 8).copy(b, h);
  return b;
}
/** Offset of the header check (the end of the header fields). */
function readHeaderEnd(b: Buffer): number {
  let at = 4 + 1 + 1 + 8;
  at += 1 + b[at]!;
  at += 1 + b[at]!;
  return at + 32 + 12;
}

describe('Kek', () => {
  const hex = kekBytes.toString('hex');
  const b64 = kekBytes.toString('base64');
  it.each([
    ['32 raw bytes', kekBytes],
    ['64 hex characters', Buffer.from(hex)],
    ['64 hex characters and a newline', Buffer.from(hex + '\n')],
    ['upper-case hex and CRLF', Buffer.from(hex.toUpperCase() + '\r\n')],
    ['base64', Buffer.from(b64)],
    ['base64 and a newline', Buffer.from(b64 + '\n')],
    ['unpadded base64url', Buffer.from(kekBytes.toString('base64url'))],
  ])('reads %s, all with the same fingerprint', (_form, bytes) => {
    expect(Kek.fromFileBytes(bytes, 'f').fingerprintHex).toBe(kek.fingerprintHex);
  });

  it('names the KEK by a domain-separated hash: not a prefix of the KEK or of its plain SHA-256', () => {
    expect(kek.fingerprint).toHaveLength(8);
    expect(kek.fingerprintHex).not.toBe(kekBytes.subarray(0, 8).toString('hex'));
    expect(kek.fingerprintHex).not.toBe(createHash('sha256').update(kekBytes).digest('hex').slice(0, 16));
    expect(otherKek.fingerprintHex).not.toBe(kek.fingerprintHex);
  });

  it.each([
    ['an empty file', Buffer.alloc(0), /the file is empty/],
    ['31 raw bytes', Buffer.from(randomBytes(31).map((b) => b | 0x80)), /31 bytes that are neither 32 raw bytes, hex nor base64/],
    ['33 raw bytes', Buffer.from(randomBytes(33).map((b) => b | 0x80)), /33 bytes that are neither/],
    ['62 hex characters', Buffer.from(hex.slice(0, 62) + '\n'), /62 hex characters/],
    ['16 bytes in hex (32 characters)', Buffer.from(hex.slice(0, 32)), /32 characters of hex or base64 text/],
    ['the base64 of 16 bytes', Buffer.from(randomBytes(16).toString('base64') + '\n'), /base64 of 16 bytes/],
    ['32 zero bytes', Buffer.alloc(32), /all zero bytes/],
    ['two trailing newlines', Buffer.from(hex + '\n\n'), /66 bytes that are neither/],
  ])('refuses %s with a precise message naming the file, never its content', (_what, bytes, message) => {
    const e = failure(() => Kek.fromFileBytes(bytes, '/etc/frost/kek/kek'));
    expect(e.reason).toBe('kek');
    expect(e.message).toMatch(message);
    expect(e.message).toContain('KEK file /etc/frost/kek/kek');
    expect(e.message).toContain('expected exactly 32 raw bytes, 64 hex characters or the base64 of 32 bytes');
    expect(e.message).not.toContain(hex.slice(0, 16));
  });

  it('reads a file, and names a missing one', async () => {
    const path = join(root, 'kek.b64');
    writeFileSync(path, b64 + '\n');
    expect((await Kek.fromFile(path)).fingerprintHex).toBe(kek.fingerprintHex);
    const e = await rejectionOf(Kek.fromFile(join(root, 'absent')));
    expect(e).toBeInstanceOf(SealedKeyError);
    expect((e as SealedKeyError).message).toMatch(/^cannot read KEK file .*absent: ENOENT/);
  });

  it('shows only its fingerprint to logs and inspection', async () => {
    const { inspect } = await import('node:util');
    for (const text of [JSON.stringify({ kek }), inspect(kek, { showHidden: true, depth: 5 })]) {
      expect(text).toContain(kek.fingerprintHex);
      expect(text).not.toContain(hex.slice(0, 16));
    }
  });
});

describe('sealKey / unsealKey', () => {
  it('round-trips every field of the record', () => {
    const signature = new Uint8Array(randomBytes(64));
    const key = sealed({ state: 'pending', version: 3, sessionId: SESSION, activationSignature: signature });
    const back = unsealKey(sealKey(key, SIGNER, kek), { kek, signerId: SIGNER, expect: { keyId: 'mint', slot: 'pending' }, what: 'f' });
    expect(back).toMatchObject({ keyId: 'mint', state: 'pending', version: 3, createdAt: key.createdAt, sessionId: SESSION });
    expect(Buffer.from(back.activationSignature!)).toEqual(Buffer.from(signature));
    expect(back.keyPackage.signingShare).toBe(key.keyPackage.signingShare);
    expect(back.keyPackage.identifier.equals(Identifier.fromNumber(1))).toBe(true);
    expect(toHex(back.publicKeyPackage.verifyingKeyBytes)).toBe(toHex(dealt.publicKeyPackage.verifyingKeyBytes));
    const plain = open(sealKey(sealed(), SIGNER, kek));
    expect(plain.sessionId).toBeUndefined();
    expect(plain.activationSignature).toBeUndefined();
    expect(plain.activationShareGiven).toBeUndefined();
  });

  it('keeps the mark of a pending key whose activation share was given; no other record carries it', () => {
    const pending = sealed({ state: 'pending', version: 2, sessionId: SESSION });
    const read = (key: SealedKey) => unsealKey(sealKey(key, SIGNER, kek), { kek, signerId: SIGNER, expect: { keyId: 'mint', slot: 'pending' }, what: 'f' });
    expect(read({ ...pending, activationShareGiven: true }).activationShareGiven).toBe(true);
    expect(read(pending).activationShareGiven).toBeUndefined();
    expect(read({ ...pending, activationShareGiven: false }).activationShareGiven).toBeUndefined();
    expect(failure(() => open(sealKey(sealed({ activationShareGiven: true }), SIGNER, kek))).message).toMatch(/activation_share_given is not true on a pending key/);
  });

  it('writes the header in the clear: magic, version, algorithm, KEK fingerprint, key id, signer id, group key, a fresh nonce', () => {
    const a = sealKey(sealed(), SIGNER, kek);
    const b = sealKey(sealed(), SIGNER, kek);
    expect(Buffer.from(a.subarray(0, 4)).toString('ascii')).toBe('HFKS');
    const h = readSealedHeader(a, 'f');
    expect(h).toMatchObject({ formatVersion: 1, algorithm: 1, keyId: 'mint', signerId: SIGNER });
    expect(toHex(h.kekFingerprint)).toBe(kek.fingerprintHex);
    expect(toHex(h.groupKey)).toBe(toHex(dealt.publicKeyPackage.verifyingKeyBytes));
    expect(toHex(h.nonce)).not.toBe(toHex(readSealedHeader(b, 'f').nonce));
  });

  it('holds no signing share in the clear (neither its 32 bytes nor their hex)', () => {
    const bytes = Buffer.from(sealKey(sealed(), SIGNER, kek));
    const share = Buffer.from(serializeScalar(kpOf(dealt, 1).signingShare));
    expect(bytes.includes(share)).toBe(false);
    expect(bytes.includes(Buffer.from(share.toString('hex')))).toBe(false);
    expect(bytes.includes(Buffer.from(share.toString('hex').toUpperCase()))).toBe(false);
    expect(bytes.includes(Buffer.from('signing_share'))).toBe(false);
  });

  it('tells a file sealed with another KEK by its fingerprint', () => {
    const e = failure(() => open(sealKey(sealed(), SIGNER, otherKek)));
    expect(e.reason).toBe('wrong_kek');
    expect(e.message).toBe(`sealed key file x/mint.key: sealed with another KEK: fingerprint ${otherKek.fingerprintHex}, this signer's KEK has ${kek.fingerprintHex}`);
  });

  it('refuses every single flipped byte, as damage and never as another KEK', () => {
    const bytes = sealKey(sealed(), SIGNER, kek);
    const headerEnd = readHeaderEnd(Buffer.from(bytes)) + 8;
    for (let i = 0; i < bytes.length; i++) {
      const damaged = Buffer.from(bytes);
      damaged[i]! ^= 0x01;
      const e = failure(() => open(damaged));
      expect(e.message).toMatch(/^sealed key file x\/mint\.key: /);
      if (i < 4) expect(e.message).toMatch(/not a sealed key file/);
      else if (i < headerEnd) expect(e.message).toMatch(/header check failed: the file is corrupted or was altered/);
      else expect(e.message).toMatch(/authentication failed: the file is corrupted or was altered/);
      expect(e.reason).toBe('corrupted');
    }
  });

  it('binds the header: a key id, signer id or group key changed with a valid header check fails authentication', () => {
    const bytes = Buffer.from(sealKey(sealed({ keyId: 'mint' }), SIGNER, kek));
    const forged = (edit: (b: Buffer) => void) => {
      const b = Buffer.from(bytes);
      edit(b);
      return rechecked(b);
    };
    // "mint" → "mine" (same length; the file under the name of the other key).
    const renamed = forged((b) => b.write('mine', 4 + 1 + 1 + 8 + 1, 'ascii'));
    const e1 = failure(() => unsealKey(renamed, { kek, signerId: SIGNER, expect: { keyId: 'mine', slot: 'current' }, what: 'f' }));
    expect(e1.message).toMatch(/authentication failed/);
    const groupKeyAt = 4 + 1 + 1 + 8 + 1 + 4 + 1 + SIGNER.length;
    const regrouped = forged((b) => Buffer.from(other.publicKeyPackage.verifyingKeyBytes).copy(b, groupKeyAt));
    expect(failure(() => open(regrouped)).message).toMatch(/authentication failed/);
    const resigned = forged((b) => b.write('signer-2', 4 + 1 + 1 + 8 + 1 + 4 + 1, 'ascii'));
    expect(failure(() => open(resigned, kek, 'signer-2')).message).toMatch(/authentication failed/);
  });

  it('refuses a file of another signer, under another key name, or of a pending key named as current', () => {
    const bytes = sealKey(sealed(), SIGNER, kek);
    const e = failure(() => open(bytes, kek, 'signer-2'));
    expect(e.reason).toBe('mismatch');
    expect(e.message).toBe('sealed key file x/mint.key: sealed for signer "signer-1", this signer is "signer-2"');
    expect(failure(() => unsealKey(bytes, { kek, signerId: SIGNER, expect: { keyId: 'audit', slot: 'current' }, what: 'f' })).message).toBe(
      'f: holds key "mint", but its name is that of key "audit"',
    );
    const pending = sealKey(sealed({ state: 'pending', sessionId: SESSION }), SIGNER, kek);
    expect(failure(() => open(pending)).message).toMatch(/holds a pending key, but its name is that of a current one/);
    expect(failure(() => unsealKey(bytes, { kek, signerId: SIGNER, expect: { keyId: 'mint', slot: 'pending' }, what: 'f' })).message).toMatch(
      /holds an active key, but its name is that of a pending one/,
    );
  });

  it('refuses a key package that does not belong to its public key package', () => {
    const e = failure(() => open(sealKey(sealed({ keyPackage: kpOf(other, 1) }), SIGNER, kek)));
    expect(e.reason).toBe('mismatch');
    expect(e.message).toMatch(/^sealed key file x\/mint\.key: INCONSISTENT_KEY/);
  });

  it('refuses another format version or algorithm, and a truncated file', () => {
    const bytes = Buffer.from(sealKey(sealed(), SIGNER, kek));
    const v2 = Buffer.from(bytes);
    v2[4] = 2;
    expect(failure(() => open(rechecked(v2))).message).toMatch(/format version 2 is not supported \(this signer reads version 1\)/);
    const alg = Buffer.from(bytes);
    alg[5] = 9;
    expect(failure(() => open(rechecked(alg))).message).toMatch(/algorithm 9 is not supported/);
    expect(failure(() => open(bytes.subarray(0, 30))).message).toMatch(/truncated header/);
    expect(failure(() => open(bytes.subarray(0, readHeaderEnd(bytes) + 8))).message).toMatch(/truncated: no ciphertext/);
    expect(failure(() => open(Buffer.from('{"key_package":{}}'))).message).toMatch(/not a sealed key file \(no HFKS magic\)/);
  });
});

describe('sealed files on disk', () => {
  let n = 0;
  const dir = () => {
    const d = join(root, `store-${++n}`);
    mkdirSync(d, { mode: 0o700 });
    return d;
  };

  it('writes <key id>.key and <key id>.pending atomically, mode 0600, with no temporary file left', async () => {
    const d = dir();
    const current = await writeSealedKey(d, sealed(), SIGNER, kek);
    const pending = await writeSealedKey(d, sealed({ state: 'pending', version: 2, sessionId: SESSION, keyPackage: kpOf(dealt, 1) }), SIGNER, kek);
    expect(current).toBe(join(d, 'mint.key'));
    expect(pending).toBe(join(d, 'mint.pending'));
    expect(readdirSync(d).sort()).toEqual(['mint.key', 'mint.pending']);
    for (const f of readdirSync(d)) expect(statSync(join(d, f)).mode & 0o777).toBe(0o600);
    expect((await readSealedKey(current, { kek, signerId: SIGNER })).state).toBe('active');
    expect((await readSealedKey(pending, { kek, signerId: SIGNER })).version).toBe(2);
  });

  it('replaces a file whole: the old content or the new one, never a mix', async () => {
    const d = dir();
    await writeFileAtomic(d, 'f', Buffer.from('old'));
    await writeFileAtomic(d, 'f', Buffer.from('new content'));
    expect(readFileSync(join(d, 'f'), 'utf8')).toBe('new content');
    expect(readdirSync(d)).toEqual(['f']);
  });

  it('a failed write leaves the old file and no temporary file', async () => {
    const d = dir();
    await writeFileAtomic(d, 'f', Buffer.from('old'));
    mkdirSync(join(d, 'g')); // renaming a file over a directory fails
    const e = await rejectionOf(writeFileAtomic(d, 'g', Buffer.from('x')));
    expect((e as Error).message).toMatch(/^cannot write .*\/g: /);
    expect(readdirSync(d).sort()).toEqual(['f', 'g']);
  });

  it('names the file it cannot read, and a name that is no key file name', async () => {
    const d = dir();
    const e = await rejectionOf(readSealedKey(join(d, 'mint.key'), { kek, signerId: SIGNER }));
    expect((e as SealedKeyError).reason).toBe('io');
    expect((e as Error).message).toMatch(new RegExp(`^sealed key file ${d}/mint\\.key: cannot read: ENOENT`));
    writeFileSync(join(d, 'mint.bak'), sealKey(sealed(), SIGNER, kek));
    expect(((await rejectionOf(readSealedKey(join(d, 'mint.bak'), { kek, signerId: SIGNER }))) as Error).message).toMatch(/the name is not <key id>\.key or <key id>\.pending/);
  });

  it('the record of begun sessions: missing is empty; written atomically (mode 0600) and read back whole', async () => {
    const d = dir();
    const file = new BegunSessionsFile(d);
    expect(file.path).toBe(join(d, BEGUN_SESSIONS_FILE));
    expect((await file.load()).size).toBe(0);
    const entries = new Map([[SESSION, 1_700_000_150_000], ['cd'.repeat(32), 0]]);
    await file.save(entries);
    expect(readdirSync(d)).toEqual([BEGUN_SESSIONS_FILE]);
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    expect(await file.load()).toEqual(entries);
    await file.save(new Map());
    expect((await file.load()).size).toBe(0);
    expect(() => encodeBegunSessions(new Map([['AB'.repeat(32), 1]]))).toThrow(/64 lowercase hex/);
  });

  it('a record of begun sessions that is not whole is an error naming the file and the fault, never fewer sessions', async () => {
    const good = Buffer.from(encodeBegunSessions(new Map([[SESSION, 42]]))).toString('utf8');
    const cases: [string, RegExp][] = [
      ['', /the file is empty/],
      [good.slice(0, -1), /truncated/],
      [good.slice(0, -10), /truncated/],
      ['hoarfrost-begun-sessions v2\n', /not a record of begun sessions/],
      [good + 'ab\n', /line 3 is not/],
      [good + `${SESSION} -1\n`, /line 3 is not/],
      [good + `${SESSION} 99999999999999999\n`, /line 3/],
      [good + '\n', /line 3 is not/],
    ];
    for (const [text, error] of cases) expect(() => parseBegunSessions(text, 'x/begun-sessions')).toThrow(new RegExp(`^x/begun-sessions: .*${error.source}`));
    const d = dir();
    writeFileSync(join(d, BEGUN_SESSIONS_FILE), good.slice(0, -1));
    expect(((await rejectionOf(new BegunSessionsFile(d).load())) as Error).message).toBe(`${join(d, BEGUN_SESSIONS_FILE)}: truncated (no newline at its end)`);
    const unreadable = dir();
    mkdirSync(join(unreadable, BEGUN_SESSIONS_FILE));
    expect(((await rejectionOf(new BegunSessionsFile(unreadable).load())) as Error).message).toMatch(/begun-sessions: cannot read: EISDIR/);
  });

  it('parses file names: key files, and temporary files that never count as keys', () => {
    expect(parseSealedFileName('mint.key')).toEqual({ keyId: 'mint', slot: 'current' });
    expect(parseSealedFileName('a.key.pending')).toEqual({ keyId: 'a.key', slot: 'pending' });
    expect(parseSealedFileName('.mint.key.0a1b2c.tmp')).toBeUndefined();
    expect(parseSealedFileName('.mint.key')).toBeUndefined();
    expect(parseSealedFileName('lost+found')).toBeUndefined();
    expect(isTemporaryFileName('.mint.key.0a1b2c.tmp')).toBe(true);
    expect(isTemporaryFileName('mint.key')).toBe(false);
  });
});
