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

export interface LoadedKey {
  keyId: string;
  keyPackage: KeyPackage;
  publicKeyPackage: PublicKeyPackage;
}

export class KeyLoadError extends Error {
  override name = 'KeyLoadError';
}

/** Reads and validates every key under `dir`. Throws KeyLoadError naming the key and file on any problem. */
export async function loadKeys(dir: string): Promise<Map<string, LoadedKey>> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
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
  if (keys.size === 0) throw new KeyLoadError(`no keys found in ${dir} (expected <key-id>/${KEY_PACKAGE_FILE})`);
  return keys;
}
