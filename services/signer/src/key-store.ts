/**
 * Loads key packages from files (a mounted Secret): one subdirectory per key id, each with the frost-rs
 * JSON key-package.json and public-key-package.json written by `frostctl keygen`. Every key is fully
 * checked at load: decodes, the share matches its verifying share, the public key package is
 * consistent and contains this share.
 * @module
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FrostError, keyPackageFromJson, publicKeyPackageFromJson, type KeyPackage, type PublicKeyPackage } from '@hoarfrost/frost';
import { KEY_ID_RE, KEY_PACKAGE_FILE, PUBLIC_KEY_PACKAGE_FILE } from '@hoarfrost/rpc';

/**
 * The life of a key on a signer: `pending` (made by a key generation, stored, waiting for its
 * activation signature), `active` (signs), `retired` (signs nothing; its public key stays published).
 */
export type KeyState = 'pending' | 'active' | 'retired';

export interface LoadedKey {
  keyId: string;
  keyPackage: KeyPackage;
  publicKeyPackage: PublicKeyPackage;
  /** Absent for keys read from a dealer's key directory without a sealed store: `active`. */
  state?: KeyState;
  /** Increases with each refresh (same group key, new shares); 1 when made. */
  version?: number;
  /** When the key was made or imported (ms since the epoch). */
  createdAt?: number;
  /**
   * For a version made by key generation and activated: its session (digest, hex) and the signature
   * that activated it — public, and enough for any holder still pending to verify and activate.
   */
  activation?: { sessionId: string; signature: Uint8Array };
}

export class KeyLoadError extends Error {
  override name = 'KeyLoadError';
}

/**
 * Reads and validates every key under `dir`. Throws KeyLoadError naming the key and file on any problem.
 * Without `allowEmpty`, a directory with no key fails (a signer without a sealed store needs one); with
 * it (dealer keys to import into a sealed store), a missing or empty directory gives no keys.
 */
export async function loadKeys(dir: string, options: { allowEmpty?: boolean } = {}): Promise<Map<string, LoadedKey>> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (options.allowEmpty && (e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new KeyLoadError(`cannot read key directory ${dir}: ${(e as Error).message}`);
  }
  const keys = new Map<string, LoadedKey>();
  // Kubernetes Secret volumes add hidden `..data` symlinks; only plain key-id names count.
  for (const entry of entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
    // Secret volumes link each entry; a link counts by what it points to (a file is no key set).
    if (!entry.isDirectory() && !(entry.isSymbolicLink() && (await stat(join(dir, entry.name)).then((s) => s.isDirectory(), () => false)))) continue;
    const keyId = entry.name;
    if (!KEY_ID_RE.test(keyId)) throw new KeyLoadError(`key directory name "${keyId}" is not a valid key id`);
    const read = async (file: string): Promise<string> => {
      try {
        return await readFile(join(dir, keyId, file), 'utf8');
      } catch (e) {
        throw new KeyLoadError(`key ${keyId}: cannot read ${file}: ${(e as Error).message}`);
      }
    };
    try {
      const keyPackage = keyPackageFromJson(await read(KEY_PACKAGE_FILE));
      const publicKeyPackage = publicKeyPackageFromJson(await read(PUBLIC_KEY_PACKAGE_FILE));
      publicKeyPackage.assertConsistent();
      keyPackage.assertMatches(publicKeyPackage);
      keys.set(keyId, { keyId, keyPackage, publicKeyPackage });
    } catch (e) {
      if (e instanceof KeyLoadError) throw e;
      throw new KeyLoadError(`key ${keyId}: ${e instanceof FrostError ? e.code : 'UNREADABLE'}: ${(e as Error).message}`);
    }
  }
  if (keys.size === 0 && !options.allowEmpty) throw new KeyLoadError(`no keys found in ${dir} (expected <key-id>/${KEY_PACKAGE_FILE})`);
  return keys;
}

/**
 * What key generation (keygen.ts) needs from the signer's key storage; the sealed store's vault
 * implements it. Session ids are the session digest in hex.
 */
export interface KeygenStore {
  /** The key as held now for signing or retired (a pending key is not returned), if any. */
  get(keyId: string): LoadedKey | undefined;
  /** Stores a key made by a session, durably, as pending (replacing any pending one of that id). */
  storePending(key: LoadedKey, sessionId: string): Promise<void>;
  /**
   * Makes the pending key of that session active, with the signature that proved it (a refresh's new
   * version replaces the old one, whose stored share is removed). Throws when there is no such pending key.
   */
  activate(keyId: string, sessionId: string, activationSignature: Uint8Array): Promise<void>;
  /**
   * Removes the pending key of that session, if there is one — unless its activation share was
   * given (it may be active on the other holders): that one stays, to be activated.
   */
  discardPending(keyId: string, sessionId: string): Promise<void>;
  /** The key signs nothing more; its public key stays published. Throws UNKNOWN_KEY when not held. */
  retire(keyId: string): Promise<void>;
  /**
   * Deletes a retired key's stored share for good (its public key is then published no more).
   * Throws UNKNOWN_KEY when not held, KEY_NOT_RETIRED unless retired.
   */
  remove(keyId: string): Promise<void>;
}
