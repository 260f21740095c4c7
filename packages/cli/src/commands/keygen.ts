import { mkdirSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  FrostError,
  keyPackageToJson,
  publicKeyPackageToJson,
  trustedDealerKeygen,
  validateThreshold,
} from '@hoarfrost/frost';
import { PUBLIC_KEY_PACKAGE_FILE } from '@hoarfrost/rpc';
import { CliError, type Io } from '../cli-error.js';

export const keygenUsage = 'frostctl keygen --threshold T --signers N --out DIR [--force]';

/** File names written by keygen (and read by the services). */
export { PUBLIC_KEY_PACKAGE_FILE };
export const keyPackageFile = (i: number): string => `key-package-${i}.json`;

function integerOption(value: string | undefined, name: string): number {
  if (value === undefined) throw new CliError('USAGE', `--${name} is required\nusage: ${keygenUsage}`);
  if (!/^\d+$/.test(value)) throw new CliError('INVALID_PARAMETERS', `--${name} must be a positive integer, got "${value}"`);
  return Number(value);
}

/** Result of {@link keygenToDir}. */
export interface KeygenResult {
  publicKeyPackagePath: string;
  keyPackagePaths: string[];
  verifyingKeyHex: string;
}

/**
 * Trusted-dealer keygen into `dir`: public-key-package.json (0644) and key-package-<i>.json (0600) for
 * i = 1..n. Refuses to overwrite unless `force`.
 */
export function keygenToDir(threshold: number, signers: number, dir: string, force = false): KeygenResult {
  try {
    validateThreshold(threshold, signers);
  } catch (e) {
    if (e instanceof FrostError) throw new CliError(e.code, e.message);
    throw e;
  }
  if (signers > 255) throw new CliError('INVALID_PARAMETERS', 'signers must be at most 255 for file-based key sets');
  const out = resolve(dir);
  const pubPath = join(out, PUBLIC_KEY_PACKAGE_FILE);
  const keyPaths = Array.from({ length: signers }, (_, i) => join(out, keyPackageFile(i + 1)));
  if (!force) {
    const existing = [pubPath, ...keyPaths].filter((p) => existsSync(p));
    if (existing.length > 0) {
      throw new CliError('FILE_EXISTS', `refusing to overwrite ${existing.join(', ')} (use --force)`, 1);
    }
  }
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const { keyPackages, publicKeyPackage } = trustedDealerKeygen({ minSigners: threshold, maxSigners: signers });
  let i = 0;
  for (const kp of keyPackages.values()) {
    const path = keyPaths[i++]!;
    writeFileSync(path, JSON.stringify(keyPackageToJson(kp), null, 2) + '\n', { mode: 0o600, flag: force ? 'w' : 'wx' });
    chmodSync(path, 0o600); // an overwritten file keeps its old mode otherwise
  }
  writeFileSync(pubPath, JSON.stringify(publicKeyPackageToJson(publicKeyPackage), null, 2) + '\n', { mode: 0o644, flag: force ? 'w' : 'wx' });
  return {
    publicKeyPackagePath: pubPath,
    keyPackagePaths: keyPaths,
    verifyingKeyHex: Buffer.from(publicKeyPackage.verifyingKeyBytes).toString('hex'),
  };
}

export function keygen(args: string[], io: Io): number {
  const { values } = parseArgs({
    args,
    options: {
      threshold: { type: 'string', short: 't' },
      signers: { type: 'string', short: 'n' },
      out: { type: 'string', short: 'o' },
      force: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const threshold = integerOption(values.threshold, 'threshold');
  const signers = integerOption(values.signers, 'signers');
  if (!values.out) throw new CliError('USAGE', `--out is required\nusage: ${keygenUsage}`);
  const r = keygenToDir(threshold, signers, values.out, values.force);
  io.out(`wrote ${threshold}-of-${signers} key set to ${resolve(values.out)}`);
  io.out(`  ${PUBLIC_KEY_PACKAGE_FILE} (group verifying key ${r.verifyingKeyHex})`);
  io.out(`  ${keyPackageFile(1)} .. ${keyPackageFile(signers)} (mode 0600: give each file only to its signer)`);
  return 0;
}
