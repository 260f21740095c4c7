// The package entry point: what importing it does, and the API other packages rely on. The import is
// dynamic so that this file, and nothing before it, loads the package.
import { beforeAll, describe, expect, it } from '@jest/globals';

type Index = typeof import('../src/index.js');
let frost: Index;
const envReads: string[] = [];

beforeAll(async () => {
  const original = process.env;
  // A value the old import-time override would have obeyed.
  process.env = new Proxy({ ...original, FROST_GROUP_BACKEND: 'noble' }, {
    get(target, key, receiver) {
      if (typeof key === 'string') envReads.push(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  try {
    frost = await import('../src/index.js');
  } finally {
    process.env = original;
  }
});

describe('importing @hoarfrost/frost', () => {
  it('reads no environment variable', () => {
    expect(envReads).toEqual([]);
  });

  it('activates the fastest group backend that loaded; only setGroupBackend changes it', () => {
    expect(frost.group().name).toBe(frost.availableBackends()[0]);
  });
});

describe('public API', () => {
  // Values imported from '@hoarfrost/frost' across the repository (services, rpc, cli, testkit, bench,
  // tests; `group` through a dynamic import). Removing or renaming one breaks a dependent package.
  const used = [
    'FrostError', 'Identifier', 'InvalidSignatureShareError', 'KeyPackage', 'MAX_NUMERIC_IDENTIFIER', 'ORDER',
    'PublicKeyPackage', 'SignatureShare', 'SigningCommitments', 'SigningNonces', 'SigningPackage', 'aggregate',
    'assertParticipantsInKeySet', 'availableBackends', 'computeBindingFactors', 'computeOthersTerm', 'computeSigningContext',
    'decodeAny', 'group', 'keyPackageFromJson', 'keyPackageToJson', 'publicKeyPackageFromJson', 'publicKeyPackageToJson',
    'round1', 'round2', 'serializeElement', 'setGroupBackend', 'toHex', 'trustedDealerKeygen', 'validateThreshold',
    'verifyEd25519', 'verifySignatureShare',
  ] as const;

  it.each(used)('exports %s', (name) => {
    expect(frost[name]).toBeDefined();
  });

  it('round1 and round2 carry commit and sign', () => {
    expect(typeof frost.round1.commit).toBe('function');
    expect(typeof frost.round2.sign).toBe('function');
  });
});
