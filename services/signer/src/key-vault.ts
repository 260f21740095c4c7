/**
 * The signer's key vault: the keys it holds, over the sealed store (sealed-store.ts), with the state
 * changes key generation makes (KeygenStore). Every change is written durably before the keys the
 * round handlers read change, so nothing the signer uses is lost in a crash, and nothing half-made
 * (a pending version) ever signs.
 *
 * Without a sealed store the vault is read-only: the dealer's key directory as loaded at start
 * (loadKeys), and every state change is refused with DKG_UNAVAILABLE.
 * @module
 */
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { toHex } from '@hoarfrost/frost';
import { KEY_ID_RE } from '@hoarfrost/rpc';
import type { Logger } from '@hoarfrost/runtime';
import { SignerError } from './errors.js';
import { KeyLoadError, loadKeys, type KeygenStore, type LoadedKey } from './key-store.js';
import {
  BegunSessionsFile,
  Kek,
  SealedKeyError,
  isTemporaryFileName,
  parseSealedFileName,
  readSealedKey,
  removeFileDurably,
  sealedFileName,
  writeFileAtomic,
  writeSealedKey,
  type SealedKey,
} from './sealed-store.js';

export interface KeyVaultOptions {
  /** The sealed store directory (made, mode 0700, when absent). */
  dir: string;
  kek: Kek;
  /** This signer's id: bound into every file it seals, checked on every file it opens. */
  signerId: string;
  /** A dealer's key directory (loadKeys' layout): keys the store lacks are imported as active version 1. */
  importDir?: string;
  logger?: Logger;
  /** Clock (ms), for created_at. */
  now?: () => number;
}

const SESSION_ID_RE = /^[0-9a-f]{64}$/;

/**
 * The refusal of a key generation for `keyId` while its pending version, whose activation share this
 * signer gave, waits: that version may be active on the other holders, and replacing it could lose a
 * share of a live key.
 */
export function pendingShareGivenError(keyId: string, sessionId: string): SignerError {
  return new SignerError(
    'KEY_EXISTS',
    `key "${keyId}" has a pending version (session ${sessionId.slice(0, 16)}) whose activation share this signer gave: it may be active on the other signers, ` +
      `and the coordinator's health loop activates it here; no key generation replaces it. Only an operator may delete its .pending file by hand, after checking the other signers`,
  );
}

/** Where and how a vault with a sealed store writes. */
interface Store {
  dir: string;
  kek: Kek;
  signerId: string;
}
const sameGroupKey = (a: LoadedKey, b: LoadedKey): boolean => Buffer.from(a.publicKeyPackage.verifyingKeyBytes).equals(Buffer.from(b.publicKeyPackage.verifyingKeyBytes));
const groupKeyHex = (k: LoadedKey): string => toHex(k.publicKeyPackage.verifyingKeyBytes);

/** The public view of a sealed key: what the round handlers and the info RPC read. */
/**
 * The marker removed keys leave in the store (`<key id>.removed`, the group key of each key removed under
 * that id in hex, a line each): a dealer's
 * key directory that still holds the key does not bring it back at the next start.
 */
const REMOVED_SUFFIX = '.removed';

function loadedOf(k: SealedKey): LoadedKey {
  const activation = k.state !== 'pending' && k.sessionId && k.activationSignature ? { activation: { sessionId: k.sessionId, signature: k.activationSignature } } : {};
  return Object.freeze({ keyId: k.keyId, keyPackage: k.keyPackage, publicKeyPackage: k.publicKeyPackage, state: k.state, version: k.version, createdAt: k.createdAt, ...activation });
}

export class KeyVault implements KeygenStore {
  /**
   * The keys the signer serves, kept current by every state change: each key's current version
   * (active or retired), and a pending version under an id that has no current one (listed, as
   * pending, by the info RPC; the round handlers refuse it).
   */
  readonly keys: ReadonlyMap<string, LoadedKey>;
  /** True without a sealed store: the keys are the dealer's files, and nothing can change them. */
  readonly readOnly: boolean;
  /** Key ids imported from the dealer's directory when the vault opened. */
  readonly imported: readonly string[];

  readonly #keys = new Map<string, LoadedKey>();
  readonly #current = new Map<string, SealedKey>();
  readonly #pending = new Map<string, SealedKey>();
  /** Keys removed from this store (key id → the group keys removed under it, hex), from their markers: never imported again. */
  readonly #removed = new Map<string, Set<string>>();
  readonly #store: Store | undefined;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  /** State changes run one at a time, each on the outcome of the last. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(store: Store | undefined, options: { logger?: Logger; now?: () => number }, imported: string[] = []) {
    this.#store = store;
    this.readOnly = store === undefined;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.imported = imported;
    this.keys = this.#keys;
  }

  /**
   * Opens the sealed store: reads and checks every sealed file, then removes the temporary files of
   * interrupted writes (never keys: a whole write is renamed) and imports the dealer's keys the store
   * lacks. Any failure, such as a file that cannot be read or checked, or a dealer key that conflicts
   * with a stored one, fails the whole open with a SealedKeyError (a KeyLoadError) naming it; a file
   * that cannot be read is never removed or rewritten, and nothing is written before every file was read.
   */
  static async open(options: KeyVaultOptions): Promise<KeyVault> {
    try {
      return await KeyVault.#open(options);
    } catch (e) {
      if (e instanceof KeyLoadError) throw e;
      // A write of the open itself (a temporary file removed, a dealer key imported) that failed.
      throw new SealedKeyError('io', `sealed store ${options.dir}: ${(e as Error).message}`);
    }
  }

  static async #open(options: KeyVaultOptions): Promise<KeyVault> {
    const { dir, kek, signerId } = options;
    const imported: string[] = [];
    const vault = new KeyVault({ dir, kek, signerId }, options, imported);
    await mkdir(dir, { recursive: true, mode: 0o700 }).catch((e: Error) => {
      throw new SealedKeyError('io', `cannot make the sealed store directory ${dir}: ${e.message}`);
    });
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (e) {
      throw new SealedKeyError('io', `cannot read the sealed store directory ${dir}: ${(e as Error).message}`);
    }
    const temporary: string[] = [];
    for (const name of names) {
      if (isTemporaryFileName(name)) {
        temporary.push(name);
        continue;
      }
      if (name.endsWith(REMOVED_SUFFIX) && !name.startsWith('.')) {
        const text = await readFile(join(dir, name), 'utf8').catch((e: Error) => {
          throw new SealedKeyError('io', `removal marker ${join(dir, name)}: cannot read: ${e.message}`);
        });
        vault.#removed.set(name.slice(0, -REMOVED_SUFFIX.length), new Set(text.split('\n').map((l) => l.trim()).filter((l) => l !== '')));
        continue;
      }
      const slot = parseSealedFileName(name);
      if (!slot) continue; // not ours (e.g. a volume's lost+found)
      const path = join(dir, name);
      const st = await stat(path).catch((e: Error) => {
        throw new SealedKeyError('io', `sealed key file ${path}: cannot read: ${e.message}`);
      });
      if (!st.isFile()) throw new SealedKeyError('io', `sealed key file ${path}: not a regular file`);
      if (!KEY_ID_RE.test(slot.keyId)) throw new SealedKeyError('mismatch', `sealed key file ${path}: "${slot.keyId}" is not a valid key id`);
      const key = await readSealedKey(path, { kek, signerId });
      (slot.slot === 'pending' ? vault.#pending : vault.#current).set(key.keyId, key);
    }
    // Every file read: only now is anything removed or written.
    for (const name of temporary) await removeFileDurably(join(dir, name));
    if (options.importDir !== undefined) await vault.#importDealerKeys(options.importDir, imported);
    for (const [keyId, pending] of [...vault.#pending]) {
      const current = vault.#current.get(keyId);
      // A pending version no newer than the current one is left over from an activation that
      // completed (the crash came between writing the new version and removing its pending file).
      if (current && pending.version <= current.version) {
        await removeFileDurably(join(dir, sealedFileName(keyId, 'pending')));
        vault.#pending.delete(keyId);
      }
    }
    for (const keyId of [...new Set([...vault.#current.keys(), ...vault.#pending.keys()])].sort()) vault.#publish(keyId);
    return vault;
  }

  /** A vault without a sealed store: the dealer's key directory, read-only (at least one key). */
  static async openReadOnly(keyDir: string, options: { logger?: Logger } = {}): Promise<KeyVault> {
    const vault = new KeyVault(undefined, options);
    for (const [keyId, key] of await loadKeys(keyDir)) vault.#keys.set(keyId, key);
    return vault;
  }

  /** The KEK fingerprint of the store (hex), for logs; undefined when read-only. */
  get kekFingerprint(): string | undefined {
    return this.#store?.kek.fingerprintHex;
  }

  get(keyId: string): LoadedKey | undefined {
    if (this.readOnly) return this.#keys.get(keyId);
    const k = this.#current.get(keyId);
    return k && this.#keys.get(keyId);
  }

  /**
   * The pending version of a key, if one waits for activation, with the session that made it and
   * whether this signer gave its share of the activation signature.
   */
  getPending(keyId: string): (LoadedKey & { sessionId: string; activationShareGiven: boolean }) | undefined {
    const p = this.#pending.get(keyId);
    return p && { ...loadedOf(p), sessionId: p.sessionId!, activationShareGiven: p.activationShareGiven === true };
  }

  /**
   * The file of the session digests key generation began on this signer, in the store directory.
   * Throws DKG_UNAVAILABLE without a sealed store.
   */
  begunSessions(): BegunSessionsFile {
    if (!this.#store) throw new SignerError('DKG_UNAVAILABLE', 'this signer has no sealed key store (SIGNER_STORE_DIR): it takes no part in key generation');
    return new BegunSessionsFile(this.#store.dir);
  }

  /** The session (digest hex) that made the active version of a key, when a key generation made it. */
  activeSession(keyId: string): string | undefined {
    const k = this.#current.get(keyId);
    return k && k.state === 'active' ? k.sessionId : undefined;
  }

  /**
   * Stores `key` durably as the pending version of its id, made by session `sessionId` (replacing a
   * pending one, unless this signer gave that one's activation share: KEY_EXISTS). Its version is
   * the vault's: 1 for a new key, the current version's + 1 for a refresh (which must keep the group
   * key; a retired key is not refreshed).
   */
  storePending(key: LoadedKey, sessionId: string): Promise<void> {
    return this.#exclusive(async (store) => {
      if (!SESSION_ID_RE.test(sessionId)) throw new Error('a session id is 64 lowercase hex characters');
      key.keyPackage.assertMatches(key.publicKeyPackage);
      const current = this.#current.get(key.keyId);
      if (current) this.#assertRefreshable(current, key);
      const kept = this.#pending.get(key.keyId);
      if (kept?.activationShareGiven) throw pendingShareGivenError(key.keyId, kept.sessionId!);
      const pending: SealedKey = {
        keyId: key.keyId,
        keyPackage: key.keyPackage,
        publicKeyPackage: key.publicKeyPackage,
        state: 'pending',
        version: current ? current.version + 1 : 1,
        createdAt: key.createdAt ?? this.#now(),
        sessionId,
      };
      await writeSealedKey(store.dir, pending, store.signerId, store.kek);
      this.#pending.set(key.keyId, pending);
      this.#publish(key.keyId);
    });
  }

  /**
   * Makes the pending version of session `sessionId` the current, active one. A refresh's new version
   * replaces the old one in one rename (the old share's file is gone once the new one is durable);
   * the pending file is removed after. Activating the version that session already made active
   * changes nothing (an activation re-sent, or two at once).
   */
  activate(keyId: string, sessionId: string, activationSignature: Uint8Array): Promise<void> {
    return this.#exclusive(async (store) => {
      const pending = this.#pending.get(keyId);
      if ((!pending || pending.sessionId !== sessionId) && this.activeSession(keyId) === sessionId) return;
      if (!pending || pending.sessionId !== sessionId) throw new SignerError('DKG_SESSION_UNKNOWN', `no pending key "${keyId}" of that session on this signer`);
      if (activationSignature.length !== 64) throw new Error('an activation signature is 64 bytes');
      const current = this.#current.get(keyId);
      if (current) this.#assertRefreshable(current, pending);
      const { activationShareGiven: _given, ...made } = pending;
      const active: SealedKey = { ...made, state: 'active', activationSignature: new Uint8Array(activationSignature) };
      await writeSealedKey(store.dir, active, store.signerId, store.kek);
      this.#current.set(keyId, active);
      this.#pending.delete(keyId);
      this.#publish(keyId);
      try {
        await removeFileDurably(join(store.dir, sealedFileName(keyId, 'pending')));
      } catch (e) {
        // The new version is durable and in use; a pending file left behind is superseded, and removed when the store next opens.
        this.#logger?.warn({ keyId, err: (e as Error).message }, 'activated key: its pending file could not be removed');
      }
    });
  }

  /**
   * Records durably, in the pending version of session `sessionId`, that this signer gives its share
   * of the activation signature: from then on no key generation replaces or discards it. Resolves
   * once the record is on disk, before the share may go out.
   */
  markActivationShareGiven(keyId: string, sessionId: string): Promise<void> {
    return this.#exclusive(async (store) => {
      const pending = this.#pending.get(keyId);
      if (!pending || pending.sessionId !== sessionId) throw new SignerError('DKG_SESSION_UNKNOWN', `no pending key "${keyId}" of that session on this signer`);
      if (pending.activationShareGiven) return;
      const given: SealedKey = { ...pending, activationShareGiven: true };
      await writeSealedKey(store.dir, given, store.signerId, store.kek);
      this.#pending.set(keyId, given);
    });
  }

  /** Removes the pending version of session `sessionId`, unless its activation share was given (then it is kept). */
  discardPending(keyId: string, sessionId: string): Promise<void> {
    return this.#exclusive(async (store) => {
      const pending = this.#pending.get(keyId);
      if (!pending || pending.sessionId !== sessionId || pending.activationShareGiven) return;
      await removeFileDurably(join(store.dir, sealedFileName(keyId, 'pending')));
      this.#pending.delete(keyId);
      this.#publish(keyId);
    });
  }

  /**
   * The key signs nothing more; its public key stays published. A pending refresh of it is discarded
   * (a retired key never comes back). Retiring a retired key changes nothing.
   */
  retire(keyId: string): Promise<void> {
    return this.#exclusive(async (store) => {
      const current = this.#current.get(keyId);
      if (!current) throw new SignerError('UNKNOWN_KEY', `no key "${keyId}" on this signer`);
      if (current.state !== 'retired') {
        const retired: SealedKey = { ...current, state: 'retired' };
        await writeSealedKey(store.dir, retired, store.signerId, store.kek);
        this.#current.set(keyId, retired);
      }
      if (this.#pending.has(keyId)) {
        await removeFileDurably(join(store.dir, sealedFileName(keyId, 'pending')));
        this.#pending.delete(keyId);
      }
      this.#publish(keyId);
    });
  }

  /** A new version of `current` must keep its group key, and a retired key gets none. */
  #assertRefreshable(current: SealedKey, next: LoadedKey): void {
    if (current.state === 'retired') throw new SignerError('KEY_RETIRED', `key "${current.keyId}" is retired`);
    if (!sameGroupKey(current, next)) throw new SignerError('KEY_EXISTS', `key "${current.keyId}" exists with another group key`);
  }

  /** Brings `keys` up to date for `keyId`: its current version, else its pending one, else nothing. */
  remove(keyId: string): Promise<void> {
    return this.#exclusive(async (store) => {
      const current = this.#current.get(keyId);
      if (!current) throw new SignerError(this.#pending.has(keyId) ? 'KEY_NOT_RETIRED' : 'UNKNOWN_KEY', `no retired key "${keyId}" on this signer`);
      if (current.state !== 'retired') throw new SignerError('KEY_NOT_RETIRED', `key "${keyId}" is ${current.state}: only a retired key is removed (retire it first)`);
      // The marker first: a dealer's key directory still holding this key must not bring it back.
      const removed = new Set([...(this.#removed.get(keyId) ?? []), groupKeyHex(current)]);
      await writeFileAtomic(store.dir, keyId + REMOVED_SUFFIX, new TextEncoder().encode([...removed].join('\n') + '\n'));
      this.#removed.set(keyId, removed);
      await removeFileDurably(join(store.dir, sealedFileName(keyId, 'current')));
      this.#current.delete(keyId);
      this.#publish(keyId);
    });
  }

  #publish(keyId: string): void {
    const k = this.#current.get(keyId) ?? this.#pending.get(keyId);
    if (k) this.#keys.set(keyId, loadedOf(k));
    else this.#keys.delete(keyId);
  }

  #exclusive(change: (store: Store) => Promise<void>): Promise<void> {
    const store = this.#store;
    if (!store) return Promise.reject(new SignerError('DKG_UNAVAILABLE', 'this signer has no sealed key store (SIGNER_STORE_DIR): its keys cannot change'));
    const run = this.#queue.then(() => change(store));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #importDealerKeys(importDir: string, imported: string[]): Promise<void> {
    const store = this.#store!;
    let dealt: Map<string, LoadedKey>;
    try {
      dealt = await loadKeys(importDir, { allowEmpty: true });
    } catch (e) {
      throw new SealedKeyError('dealer_keys', `dealer keys to import: ${(e as KeyLoadError).message}`);
    }
    // A key removed from this store is never brought back, nor in conflict with a later key of its id.
    for (const [keyId, key] of [...dealt]) {
      if (this.#removed.get(keyId)?.has(groupKeyHex(key))) {
        this.#logger?.warn({ keyId }, 'dealer key not imported: it was retired and removed from this signer (remove it from the dealer key directory)');
        dealt.delete(keyId);
      }
    }
    // Every conflict is found before anything is written.
    for (const [keyId, key] of dealt) {
      const current = this.#current.get(keyId);
      if (current && !sameGroupKey(current, key)) {
        throw new SealedKeyError(
          'import_conflict',
          `dealer key "${keyId}" in ${importDir} has group key ${groupKeyHex(key)}, but the sealed store holds key "${keyId}" with group key ${groupKeyHex(current)}`,
        );
      }
    }
    for (const [keyId, key] of dealt) {
      if (this.#current.has(keyId)) continue; // the same key, already sealed (perhaps refreshed since)
      const sealed: SealedKey = { keyId, keyPackage: key.keyPackage, publicKeyPackage: key.publicKeyPackage, state: 'active', version: 1, createdAt: this.#now() };
      await writeSealedKey(store.dir, sealed, store.signerId, store.kek);
      this.#current.set(keyId, sealed);
      imported.push(keyId);
    }
  }
}
