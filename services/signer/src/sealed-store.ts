/**
 * Sealed key files: one key package (and its public key package and life-cycle record) per file,
 * encrypted with AES-256-GCM under the signer's key-encryption key (KEK, from a mounted Secret).
 *
 * File layout (all integers unsigned, big-endian):
 * ```
 * header (in the clear, and the AEAD's associated data, so every field is bound to the ciphertext):
 *   magic "HFKS" (4) | format version (1) = 1 | algorithm (1) = 1 (AES-256-GCM)
 *   | KEK fingerprint (8) | key id length (1) | key id (ASCII) | signer id length (1) | signer id (ASCII)
 *   | group key (32) | nonce (12, random) | header check (8: SHA-256 of the header bytes before it)
 * ciphertext (of the JSON record below) | tag (16)
 * ```
 * Record: `{ key_id, version, state, created_at, session_id?, activation_signature?,
 * activation_share_given?, key_package, public_key_package }`, the packages in frost-rs JSON. The KEK fingerprint (a domain-separated hash
 * of the KEK, never the KEK) tells a file sealed with another KEK from a damaged one, and the header
 * check tells a damaged header from either; both are diagnostics only: authenticity is the AEAD's.
 *
 * A key has at most two files: `<key id>.key` holds its current version (active or retired), and
 * `<key id>.pending` a version made by a key generation that waits for its activation (a refresh's
 * new shares wait there while the current version still signs). Files are written atomically (a
 * temporary file in the same directory, fsync, rename, fsync of the directory), so a crash leaves
 * either the old file or the new one, and at worst a temporary file, which is never read as a key.
 *
 * The directory also holds `begun-sessions`: the digests of the key generation sessions this signer
 * began and still remembers (BegunSessionsFile), so that a restart does not let a session be begun
 * twice. Not secret (digests and times), written atomically like the keys, mode 0600.
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  FrostError,
  fromHexStrict,
  keyPackageFromJson,
  keyPackageToJson,
  publicKeyPackageFromJson,
  publicKeyPackageToJson,
  toHex,
} from '@hoarfrost/frost';
import { KEY_ID_RE } from '@hoarfrost/rpc';
import { KeyLoadError, type KeyState, type LoadedKey } from './key-store.js';

export const SEALED_MAGIC = 'HFKS';
/** The one format version this signer reads and writes. */
export const SEALED_FORMAT_VERSION = 1;
/** Algorithm ids of the header: 1 = AES-256-GCM with a 12-byte nonce and a 16-byte tag. */
export const SEALED_ALGORITHM_AES_256_GCM = 1;

const MAGIC = Buffer.from(SEALED_MAGIC, 'ascii');
const FINGERPRINT_BYTES = 8;
const GROUP_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const CHECK_BYTES = 8;
const TAG_BYTES = 16;
const KEK_BYTES = 32;
const FINGERPRINT_DOMAIN = Buffer.from('hoarfrost-kek-fingerprint-v1\0', 'ascii');
const SIGNER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const SESSION_ID_RE = /^[0-9a-f]{64}$/;

/** Why keys could not be loaded: the `reason` label of frost_signer_key_load_failed. */
export const KEY_LOAD_REASONS = ['kek', 'wrong_kek', 'corrupted', 'mismatch', 'io', 'import_conflict', 'dealer_keys'] as const;
export type KeyLoadReason = (typeof KEY_LOAD_REASONS)[number];

/** A key that cannot be loaded from (or imported into) the sealed store, with the reason's class. */
export class SealedKeyError extends KeyLoadError {
  override name = 'SealedKeyError';
  readonly reason: KeyLoadReason;
  constructor(reason: KeyLoadReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

// --- KEK --------------------------------------------------------------------------------------

/** The key-encryption key. Its bytes stay inside this object; logs and inspection see the fingerprint only. */
export class Kek {
  readonly #key: Buffer;
  /** First 8 bytes of SHA-256("hoarfrost-kek-fingerprint-v1\0" || KEK): names the KEK, reveals nothing of it. */
  readonly fingerprint: Uint8Array;

  private constructor(key: Buffer) {
    this.#key = key;
    this.fingerprint = new Uint8Array(createHash('sha256').update(FINGERPRINT_DOMAIN).update(key).digest().subarray(0, FINGERPRINT_BYTES));
  }

  get fingerprintHex(): string {
    return toHex(this.fingerprint);
  }

  /**
   * The KEK in a file's bytes: exactly 32 raw bytes, or 64 hex characters, or the base64 (standard or
   * URL-safe, padded or not) of 32 bytes; a text form may end with one newline. `source` names the
   * file in errors, which never quote its content.
   */
  static fromFileBytes(bytes: Uint8Array, source: string): Kek {
    const fail = (detail: string): never => {
      throw new SealedKeyError('kek', `KEK file ${source}: ${detail}; expected exactly 32 raw bytes, 64 hex characters or the base64 of 32 bytes`);
    };
    let key: Buffer;
    if (bytes.length === KEK_BYTES) {
      // 32 random bytes are all hex or base64 characters with probability 2^-64: such a file is a
      // shorter key written as text (e.g. 16 bytes in hex), not a raw key.
      if (/^[A-Za-z0-9+/=_-]+$/.test(Buffer.from(bytes).toString('latin1'))) fail('32 characters of hex or base64 text (a key of 16 or 24 bytes)');
      key = Buffer.from(bytes);
    } else {
      const text = Buffer.from(bytes).toString('latin1').replace(/\r?\n$/, '');
      if (/^[0-9a-fA-F]+$/.test(text)) {
        if (text.length !== 2 * KEK_BYTES) fail(`${text.length} hex characters`);
        key = Buffer.from(text, 'hex');
      } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
        const given = text.replace(/-/g, '+').replace(/_/g, '/');
        const decoded = Buffer.from(given, 'base64');
        if (decoded.length !== KEK_BYTES) fail(`base64 of ${decoded.length} bytes`);
        // Only the canonical text of those 32 bytes (no stray bits in the last character).
        const canonical = decoded.toString('base64');
        if (given !== canonical && given !== canonical.replace(/=+$/, '')) fail('not canonical base64');
        key = decoded;
      } else {
        key = fail(bytes.length === 0 ? 'the file is empty' : `${bytes.length} bytes that are neither 32 raw bytes, hex nor base64`);
      }
    }
    if (key.every((b) => b === 0)) fail('the key is all zero bytes');
    return new Kek(key);
  }

  /** Reads the KEK file (see fromFileBytes). The file's bytes are wiped once read. */
  static async fromFile(path: string): Promise<Kek> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new SealedKeyError('kek', `cannot read KEK file ${path}: ${(e as Error).message}`);
    }
    try {
      return Kek.fromFileBytes(bytes, path);
    } finally {
      bytes.fill(0);
    }
  }

  /** AES-256-GCM encryption under the KEK: ciphertext || tag. */
  encrypt(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  /** AES-256-GCM decryption of ciphertext || tag; throws when authentication fails. */
  decrypt(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer {
    if (sealed.length < TAG_BYTES) throw new Error('too short');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
  }

  toJSON(): Record<string, string> {
    return { fingerprint: this.fingerprintHex };
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Kek { fingerprint: ${this.fingerprintHex} }`;
  }
}

// --- records ----------------------------------------------------------------------------------

/** A key as a sealed file holds it: a LoadedKey with its whole life-cycle record. */
export interface SealedKey extends LoadedKey {
  state: KeyState;
  version: number;
  createdAt: number;
  /** The key generation session that made this version (session digest, hex). */
  sessionId?: string;
  /** The Ed25519 signature, under the group key, that activated this version. */
  activationSignature?: Uint8Array;
  /**
   * A pending version only: this signer gave its share of the activation signature, so the version
   * may be active on the other holders. Key generation never replaces or discards it.
   */
  activationShareGiven?: boolean;
}

/** Which file of a key: its current version (`.key`), or a version waiting for activation (`.pending`). */
export type SealedSlot = 'current' | 'pending';
const SUFFIX: Record<SealedSlot, string> = { current: '.key', pending: '.pending' };

export const slotOfState = (state: KeyState): SealedSlot => (state === 'pending' ? 'pending' : 'current');

export function sealedFileName(keyId: string, slot: SealedSlot): string {
  return keyId + SUFFIX[slot];
}

/** The key id and slot a file name stands for, if it names a sealed key file at all. */
export function parseSealedFileName(name: string): { keyId: string; slot: SealedSlot } | undefined {
  for (const slot of ['current', 'pending'] as const) {
    if (name.endsWith(SUFFIX[slot]) && !name.startsWith('.')) return { keyId: name.slice(0, -SUFFIX[slot].length), slot };
  }
  return undefined;
}

/** Temporary files of an interrupted write: `.<name>.<random>.tmp`. Never keys; removed when a store opens. */
export function isTemporaryFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/** The header fields in the clear. */
export interface SealedHeader {
  formatVersion: number;
  algorithm: number;
  kekFingerprint: Uint8Array;
  keyId: string;
  signerId: string;
  groupKey: Uint8Array;
  nonce: Uint8Array;
  /** Length of the header in the file: the associated data. */
  length: number;
}

function encodeHeader(h: Omit<SealedHeader, 'length' | 'formatVersion' | 'algorithm'>): Buffer {
  const keyId = Buffer.from(h.keyId, 'ascii');
  const signerId = Buffer.from(h.signerId, 'ascii');
  const body = Buffer.concat([
    MAGIC,
    Buffer.from([SEALED_FORMAT_VERSION, SEALED_ALGORITHM_AES_256_GCM]),
    h.kekFingerprint,
    Buffer.from([keyId.length]),
    keyId,
    Buffer.from([signerId.length]),
    signerId,
    h.groupKey,
    h.nonce,
  ]);
  return Buffer.concat([body, headerCheck(body)]);
}

const headerCheck = (body: Uint8Array): Buffer => createHash('sha256').update(body).digest().subarray(0, CHECK_BYTES);

/**
 * Parses the header of a sealed file. `what` names the file in errors. Throws SealedKeyError
 * (`corrupted`) for a file that is not a sealed key file, is truncated or whose header was damaged.
 */
export function readSealedHeader(bytes: Uint8Array, what: string): SealedHeader {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupted = (detail: string): never => {
    throw new SealedKeyError('corrupted', `${what}: ${detail}`);
  };
  if (b.length < MAGIC.length || !b.subarray(0, MAGIC.length).equals(MAGIC)) corrupted(`not a sealed key file (no ${SEALED_MAGIC} magic)`);
  let at = MAGIC.length;
  const take = (n: number): Buffer => {
    if (at + n > b.length) corrupted('truncated header');
    const part = b.subarray(at, at + n);
    at += n;
    return part;
  };
  const formatVersion = take(1)[0]!;
  const algorithm = take(1)[0]!;
  const kekFingerprint = new Uint8Array(take(FINGERPRINT_BYTES));
  const keyId = take(take(1)[0]!).toString('latin1');
  const signerId = take(take(1)[0]!).toString('latin1');
  const groupKey = new Uint8Array(take(GROUP_KEY_BYTES));
  const nonce = new Uint8Array(take(NONCE_BYTES));
  const bodyEnd = at;
  const check = take(CHECK_BYTES);
  if (!check.equals(headerCheck(b.subarray(0, bodyEnd)))) corrupted('header check failed: the file is corrupted or was altered');
  // Checked after the header check, so that damage is reported as damage, not as a version.
  if (formatVersion !== SEALED_FORMAT_VERSION) corrupted(`format version ${formatVersion} is not supported (this signer reads version ${SEALED_FORMAT_VERSION})`);
  if (algorithm !== SEALED_ALGORITHM_AES_256_GCM) corrupted(`algorithm ${algorithm} is not supported (this signer reads ${SEALED_ALGORITHM_AES_256_GCM}: AES-256-GCM)`);
  if (b.length < at + TAG_BYTES) corrupted('truncated: no ciphertext and tag after the header');
  return { formatVersion, algorithm, kekFingerprint, keyId, signerId, groupKey, nonce, length: at };
}

/** What a sealed file is checked against when read. */
export interface UnsealOptions {
  kek: Kek;
  /** This signer's id: a file sealed for another signer is refused. */
  signerId: string;
  /** The key id and slot the file's name stands for. */
  expect?: { keyId: string; slot: SealedSlot };
  /** The file, in error messages. */
  what: string;
}

/** Seals `key` for `signerId` under `kek`: the bytes of a sealed key file. */
export function sealKey(key: SealedKey, signerId: string, kek: Kek): Uint8Array {
  if (!KEY_ID_RE.test(key.keyId)) throw new Error(`key id "${key.keyId}" is not valid`);
  if (!SIGNER_ID_RE.test(signerId)) throw new Error(`signer id "${signerId}" is not valid`);
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
  const header = encodeHeader({ kekFingerprint: kek.fingerprint, keyId: key.keyId, signerId, groupKey: key.publicKeyPackage.verifyingKeyBytes, nonce });
  const record = {
    key_id: key.keyId,
    version: key.version,
    state: key.state,
    created_at: key.createdAt,
    ...(key.sessionId !== undefined ? { session_id: key.sessionId } : {}),
    ...(key.activationSignature !== undefined ? { activation_signature: toHex(key.activationSignature) } : {}),
    ...(key.activationShareGiven ? { activation_share_given: true } : {}),
    key_package: keyPackageToJson(key.keyPackage),
    public_key_package: publicKeyPackageToJson(key.publicKeyPackage),
  };
  const plaintext = Buffer.from(JSON.stringify(record), 'utf8');
  try {
    return new Uint8Array(Buffer.concat([header, kek.encrypt(nonce, header, plaintext)]));
  } finally {
    plaintext.fill(0);
  }
}

const RECORD_FIELDS = ['key_id', 'version', 'state', 'created_at', 'session_id', 'activation_signature', 'activation_share_given', 'key_package', 'public_key_package'];
const REQUIRED_FIELDS = ['key_id', 'version', 'state', 'created_at', 'key_package', 'public_key_package'];

/**
 * Opens a sealed key file and checks it whole: header, signer id, the name it was found under, the
 * KEK fingerprint, the AEAD, the record against the header, and the key package against its public
 * key package. Every failure is a SealedKeyError naming the file (`what`).
 */
export function unsealKey(bytes: Uint8Array, options: UnsealOptions): SealedKey {
  const { kek, signerId, expect, what } = options;
  const header = readSealedHeader(bytes, what);
  const mismatch = (detail: string): never => {
    throw new SealedKeyError('mismatch', `${what}: ${detail}`);
  };
  if (header.signerId !== signerId) mismatch(`sealed for signer "${header.signerId}", this signer is "${signerId}"`);
  if (expect && header.keyId !== expect.keyId) mismatch(`holds key "${header.keyId}", but its name is that of key "${expect.keyId}"`);
  if (!timingSafeEqual(header.kekFingerprint, kek.fingerprint)) {
    throw new SealedKeyError('wrong_kek', `${what}: sealed with another KEK: fingerprint ${toHex(header.kekFingerprint)}, this signer's KEK has ${kek.fingerprintHex}`);
  }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let plaintext: Buffer;
  try {
    plaintext = kek.decrypt(header.nonce, b.subarray(0, header.length), b.subarray(header.length));
  } catch {
    throw new SealedKeyError('corrupted', `${what}: authentication failed: the file is corrupted or was altered`);
  }
  try {
    return checkRecord(plaintext, header, options);
  } finally {
    plaintext.fill(0);
  }
}

function checkRecord(plaintext: Buffer, header: SealedHeader, { expect, what }: UnsealOptions): SealedKey {
  const invalid = (detail: string): never => {
    throw new SealedKeyError('mismatch', `${what}: ${detail}`);
  };
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>;
  } catch {
    return invalid('the sealed record is not JSON');
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return invalid('the sealed record is not an object');
  for (const k of Object.keys(r)) if (!RECORD_FIELDS.includes(k)) invalid(`the sealed record has an unknown field "${k}"`);
  for (const k of REQUIRED_FIELDS) if (!(k in r)) invalid(`the sealed record has no "${k}"`);
  if (r.key_id !== header.keyId) invalid(`the sealed record is of key ${JSON.stringify(r.key_id)}, the header of key "${header.keyId}"`);
  const version = r.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return invalid('the sealed record version is not a positive integer');
  const state = r.state;
  if (state !== 'pending' && state !== 'active' && state !== 'retired') return invalid(`the sealed record state ${JSON.stringify(state)} is not pending, active or retired`);
  if (expect && slotOfState(state) !== expect.slot) invalid(`holds ${state === 'active' ? 'an' : 'a'} ${state} key, but its name is that of a ${expect.slot === 'pending' ? 'pending' : 'current'} one`);
  const createdAt = r.created_at;
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < 0) return invalid('the sealed record created_at is not a time in ms');
  let sessionId: string | undefined;
  if (r.session_id !== undefined) {
    if (typeof r.session_id !== 'string' || !SESSION_ID_RE.test(r.session_id)) invalid('the sealed record session_id is not 64 hex characters');
    sessionId = r.session_id as string;
  }
  if (state === 'pending' && sessionId === undefined) invalid('the sealed record of a pending key has no session_id');
  let activationSignature: Uint8Array | undefined;
  if (r.activation_signature !== undefined) {
    activationSignature = typeof r.activation_signature === 'string' ? fromHexStrict(r.activation_signature) : undefined;
    if (!activationSignature || activationSignature.length !== 64) invalid('the sealed record activation_signature is not 64 bytes of hex');
  }
  if (r.activation_share_given !== undefined && (r.activation_share_given !== true || state !== 'pending')) {
    invalid('the sealed record activation_share_given is not true on a pending key');
  }
  const activationShareGiven = r.activation_share_given === true;
  try {
    const keyPackage = keyPackageFromJson(r.key_package);
    const publicKeyPackage = publicKeyPackageFromJson(r.public_key_package);
    if (!Buffer.from(publicKeyPackage.verifyingKeyBytes).equals(Buffer.from(header.groupKey))) {
      invalid(`the sealed public key package has group key ${toHex(publicKeyPackage.verifyingKeyBytes)}, the header ${toHex(header.groupKey)}`);
    }
    publicKeyPackage.assertConsistent();
    keyPackage.assertMatches(publicKeyPackage);
    return {
      keyId: header.keyId,
      keyPackage,
      publicKeyPackage,
      state,
      version,
      createdAt,
      ...(sessionId !== undefined ? { sessionId } : {}),
      ...(activationSignature !== undefined ? { activationSignature } : {}),
      ...(activationShareGiven ? { activationShareGiven } : {}),
    };
  } catch (e) {
    if (e instanceof SealedKeyError) throw e;
    throw new SealedKeyError('mismatch', `${what}: ${e instanceof FrostError ? e.code : 'UNREADABLE'}: ${(e as Error).message}`);
  }
}

// --- I/O --------------------------------------------------------------------------------------

/** Reads and checks one sealed key file (see unsealKey); its name gives the key id and slot it must hold. */
export async function readSealedKey(path: string, options: Omit<UnsealOptions, 'what' | 'expect'>): Promise<SealedKey> {
  const what = `sealed key file ${path}`;
  const expect = parseSealedFileName(basename(path));
  if (!expect || !KEY_ID_RE.test(expect.keyId)) throw new SealedKeyError('mismatch', `${what}: the name is not <key id>.key or <key id>.pending`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SealedKeyError('io', `${what}: cannot read: ${(e as Error).message}`);
  }
  return unsealKey(bytes, { ...options, expect, what });
}

/** fsync of a directory: makes a rename or an unlink in it durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (e) {
    // Some file systems cannot sync a directory; their renames are as durable as they get.
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `bytes` as `dir/name` atomically and durably: a temporary file (mode 0600) in the same
 * directory, written and fsynced, renamed over `name`, then the directory fsynced. Returns the path.
 */
export async function writeFileAtomic(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const target = join(dir, name);
  const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new Error(`cannot write ${target}: ${(e as Error).message}`);
  }
  await syncDirectory(dir);
  return target;
}

/** Seals `key` and writes it atomically to its slot's file in `dir`. Returns the path. */
export async function writeSealedKey(dir: string, key: SealedKey, signerId: string, kek: Kek): Promise<string> {
  return writeFileAtomic(dir, sealedFileName(key.keyId, slotOfState(key.state)), sealKey(key, signerId, kek));
}

/** Removes a file durably (the directory is fsynced); a file already gone is fine. */
export async function removeFileDurably(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`cannot remove ${path}: ${(e as Error).message}`);
  }
  await syncDirectory(dirname(path));
}

// --- begun key generation sessions --------------------------------------------------------------

/** The file of the sealed store directory that records the key generation sessions begun here. */
export const BEGUN_SESSIONS_FILE = 'begun-sessions';
const BEGUN_SESSIONS_HEADER = 'hoarfrost-begun-sessions v1';
const BEGUN_SESSION_LINE_RE = /^([0-9a-f]{64}) (0|[1-9][0-9]{0,15})$/;

/** The text of a record of begun sessions: a header line, then `<session digest hex> <until ms>` per session. */
export function encodeBegunSessions(entries: ReadonlyMap<string, number>): Uint8Array {
  const lines = [BEGUN_SESSIONS_HEADER];
  for (const [hex, until] of entries) {
    if (!SESSION_ID_RE.test(hex)) throw new Error('a session digest is 64 lowercase hex characters');
    if (!Number.isSafeInteger(until) || until < 0) throw new Error('a begun session is remembered until a time in ms');
    lines.push(`${hex} ${until}`);
  }
  return new TextEncoder().encode(lines.join('\n') + '\n');
}

/**
 * Parses a record of begun sessions (see encodeBegunSessions). `what` names the file in errors.
 * Anything else, an empty or truncated file included, is an error: never read as fewer sessions.
 */
export function parseBegunSessions(text: string, what: string): Map<string, number> {
  const fail = (detail: string): never => {
    throw new Error(`${what}: ${detail}`);
  };
  if (!text.endsWith('\n')) fail(text.length === 0 ? 'the file is empty' : 'truncated (no newline at its end)');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== BEGUN_SESSIONS_HEADER) fail(`not a record of begun sessions (its first line is not "${BEGUN_SESSIONS_HEADER}")`);
  const out = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const m = BEGUN_SESSION_LINE_RE.exec(lines[i]!);
    if (!m) return fail(`line ${i + 1} is not "<session digest: 64 lowercase hex digits> <time in ms>"`);
    const until = Number(m[2]);
    if (!Number.isSafeInteger(until)) fail(`line ${i + 1}: the time is out of range`);
    out.set(m[1]!, Math.max(until, out.get(m[1]!) ?? 0));
  }
  return out;
}

/**
 * The session digests key generation began on this signer, each with the time (ms, this signer's
 * clock) until which a begin of it must be refused: the store directory's `begun-sessions` file,
 * rewritten whole and atomically (fsynced, mode 0600). Not secret: digests and times only.
 */
export class BegunSessionsFile {
  readonly path: string;
  constructor(readonly dir: string) {
    this.path = join(dir, BEGUN_SESSIONS_FILE);
  }

  /**
   * The sessions recorded: none when the file does not exist. A file that cannot be read or parsed
   * throws, naming it and what is wrong: forgetting a begun session would let it be begun twice.
   */
  async load(): Promise<Map<string, number>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new Error(`${this.path}: cannot read: ${(e as Error).message}`);
    }
    return parseBegunSessions(text, this.path);
  }

  /** Replaces the record with `entries`, durably: resolves once the new file is on disk. */
  async save(entries: ReadonlyMap<string, number>): Promise<void> {
    await writeFileAtomic(this.dir, BEGUN_SESSIONS_FILE, encodeBegunSessions(entries));
  }
}
