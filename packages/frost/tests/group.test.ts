// The group backends: which load, which one is active, and that all of them agree exactly on
// element validation and arithmetic.
import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Point } from '../src/ciphersuite.js';
import { availableBackends, group, native, noble, setGroupBackend, sodium, type BackendName, type GroupBackend } from '../src/group.js';

const L = Point.Fn.ORDER;
const torsion = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
].map((h) => Point.fromHex(h));

const initial = group().name;
const fast = [native, sodium].filter((b): b is GroupBackend => b !== undefined);
const addon = fileURLToPath(new URL('../native/frost_native.node', import.meta.url));

describe('loading and selection', () => {
  afterEach(() => setGroupBackend(initial));

  it('the native backend loads if and only if the addon was built (a built addon that fails to load fails here)', () => {
    expect(native !== undefined).toBe(existsSync(addon));
  });

  (process.env.CI === 'true' ? it : it.skip)('in CI both fast backends are present (a broken native build must not silently fall back)', () => {
    expect(fast.map((b) => b.name)).toEqual(['native', 'sodium']);
  });

  it('lists the backends that loaded, fastest first, and noble always', () => {
    expect(availableBackends()).toEqual([...fast.map((b) => b.name), 'noble']);
  });

  it('starts on the fastest backend that loaded', () => {
    expect(initial).toBe(availableBackends()[0]);
  });

  it('setGroupBackend switches the active backend and refuses one that did not load', () => {
    for (const name of availableBackends()) {
      setGroupBackend(name);
      expect(group().name).toBe(name);
    }
    expect(() => setGroupBackend('gmp' as BackendName)).toThrow(/not available/);
    expect(group().name).toBe(availableBackends().at(-1));
  });
});

describe.each(fast.map((b) => [b.name, b] as const))('%s and noble backends agree', (_name, fastBackend) => {
  it('on validity of arbitrary 32-byte strings', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (b) => {
      expect(fastBackend.isValidElement(b)).toBe(noble.isValidElement(b));
    }), { numRuns: 500 });
  });

  it('on valid points, points with a torsion component, small-order and non-canonical encodings', () => {
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: L - 1n }), fc.integer({ min: 0, max: 3 }), (k, t) => {
      const P = Point.BASE.multiply(k);
      expect(fastBackend.isValidElement(P.toBytes())).toBe(true);
      expect(noble.isValidElement(P.toBytes())).toBe(true);
      const dirty = P.add(torsion[t]!);
      const expected = t === 0; // adding the identity keeps it valid
      expect(fastBackend.isValidElement(dirty.toBytes())).toBe(expected);
      expect(noble.isValidElement(dirty.toBytes())).toBe(expected);
    }), { numRuns: 100 });
    for (const T of torsion) {
      expect(fastBackend.isValidElement(T.toBytes())).toBe(false);
      expect(noble.isValidElement(T.toBytes())).toBe(false);
    }
    // y = p (non-canonical encoding of y = 0) and the identity with the sign bit set.
    for (const hex of ['edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', '0100000000000000000000000000000000000000000000000000000000000080']) {
      const b = Uint8Array.from(Buffer.from(hex, 'hex'));
      expect(fastBackend.isValidElement(b)).toBe(false);
      expect(noble.isValidElement(b)).toBe(false);
    }
  });

  it('on base multiplication and on Σ adds + Σ [s]P', () => {
    fc.assert(fc.property(
      fc.array(fc.bigInt({ min: 1n, max: L - 1n }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.bigInt({ min: 0n, max: L - 1n }), { minLength: 0, maxLength: 4 }),
      (addKeys, scalars) => {
        expect(Buffer.from(fastBackend.baseMul(addKeys[0]!)).toString('hex')).toBe(Buffer.from(noble.baseMul(addKeys[0]!)).toString('hex'));
        const adds = addKeys.map((k) => Point.BASE.multiply(k).toBytes());
        const muls = scalars.map((_, i) => Point.BASE.multiply(BigInt(i + 7)).toBytes());
        const a = fastBackend.combine(adds, muls, scalars);
        const b = noble.combine(adds, muls, scalars);
        expect(Buffer.from(a).toString('hex')).toBe(Buffer.from(b).toString('hex'));
      },
    ), { numRuns: 60 });
  });
});
