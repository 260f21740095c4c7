import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { bytesToNumberLE, numberToBytesLE, toHex } from '../src/bytes.js';
import {
  CIPHERSUITE_ID,
  CONTEXT_STRING,
  H1,
  H2,
  H3,
  H4,
  H5,
  ORDER,
  Point,
  assertValidElement,
  baseMulSecret,
  deserializeElement,
  deserializeScalar,
  invert,
  mod,
  serializeElement,
  serializeScalar,
} from '../src/ciphersuite.js';
import { availableBackends, group, setGroupBackend } from '../src/group.js';
import { codeOf } from './helpers.js';

const initial = group().name;
const L = 2n ** 252n + 27742317777372353535851937790883648493n; // RFC 8032 §5.1
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const sha512 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

describe('constants', () => {
  it('name the ciphersuite as RFC 9591 §6.1 and frost-rs do, over the Ed25519 group order', () => {
    expect(CONTEXT_STRING).toBe('FROST-ED25519-SHA512-v1');
    expect(CIPHERSUITE_ID).toBe('FROST-ED25519-SHA512-v1');
    expect(ORDER).toBe(L);
  });
});

describe('scalars', () => {
  it('mod reduces into [0, L), also negative values; invert is the field inverse and refuses zero', () => {
    expect(mod(L)).toBe(0n);
    expect(mod(-1n)).toBe(L - 1n);
    expect(mod(2n * L + 5n)).toBe(5n);
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: L - 1n }), (a) => expect(mod(a * invert(a))).toBe(1n)));
    expect(() => invert(0n)).toThrow();
  });

  it('SerializeScalar is 32-byte little-endian and DeserializeScalar inverts it', () => {
    expect(toHex(serializeScalar(1n))).toBe('01' + '00'.repeat(31));
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: L - 1n }), (s) => expect(deserializeScalar(serializeScalar(s))).toBe(s)));
  });

  it('DeserializeScalar refuses non-canonical encodings (≥ L) and wrong lengths', () => {
    expect(deserializeScalar(numberToBytesLE(L - 1n, 32))).toBe(L - 1n);
    expect(deserializeScalar(new Uint8Array(32))).toBe(0n);
    for (const v of [L, L + 1n, 2n ** 256n - 1n]) expect(codeOf(() => deserializeScalar(numberToBytesLE(v, 32)))).toBe('INVALID_SCALAR');
    for (const len of [0, 31, 33, 64]) expect(codeOf(() => deserializeScalar(new Uint8Array(len)))).toBe('INVALID_SCALAR');
  });
});

describe('hash functions (RFC 9591 §6.1)', () => {
  const m = utf8('some message');
  const scalarOf = (digest: Uint8Array): bigint => bytesToNumberLE(digest) % L;

  it('H1, H3, H4 and H5 are SHA-512 over contextString ‖ tag ‖ m, H1 and H3 reduced mod L', () => {
    expect(H1(m)).toBe(scalarOf(sha512(utf8(CONTEXT_STRING + 'rho'), m)));
    expect(H3(m)).toBe(scalarOf(sha512(utf8(CONTEXT_STRING + 'nonce'), m)));
    expect(toHex(H4(m))).toBe(toHex(sha512(utf8(CONTEXT_STRING + 'msg'), m)));
    expect(toHex(H5(m))).toBe(toHex(sha512(utf8(CONTEXT_STRING + 'com'), m)));
  });

  it('H2 is plain SHA-512 mod L, so that the signatures are RFC 8032 Ed25519 ones', () => {
    expect(H2(m)).toBe(scalarOf(sha512(m)));
  });
});

const identity = '01' + '00'.repeat(31);
const order2 = 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'; // y = -1
const order8 = '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05';
const yEqualsP = 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'; // non-canonical y = p
const hexBytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

describe.each(availableBackends())('elements, %s backend', (backend) => {
  beforeAll(() => setGroupBackend(backend));
  afterAll(() => setGroupBackend(initial));

  it('DeserializeElement inverts SerializeElement on subgroup points', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: L - 1n }), (k) => {
        const P = Point.BASE.multiply(k);
        expect(deserializeElement(serializeElement(P)).equals(P)).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it('DeserializeElement refuses the identity, small-order and torsioned points, non-canonical encodings and wrong lengths, saying which', () => {
    const torsioned = Point.BASE.multiply(5n).add(Point.fromHex(order8)).toBytes();
    const cases: [Uint8Array, RegExp][] = [
      [hexBytes(identity), /identity/],
      [hexBytes(order2), /prime-order subgroup/],
      [hexBytes(order8), /prime-order subgroup/],
      [torsioned, /prime-order subgroup/],
      [hexBytes(yEqualsP), /canonical/],
      [new Uint8Array(31), /32 bytes/],
    ];
    for (const [bytes, reason] of cases) {
      expect(codeOf(() => deserializeElement(bytes))).toBe('INVALID_POINT');
      expect(() => assertValidElement(bytes)).toThrow(reason);
    }
  });

  it('baseMulSecret is [s]B', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: L - 1n }), (s) => expect(baseMulSecret(s).equals(Point.BASE.multiply(s))).toBe(true)),
      { numRuns: 20 },
    );
  });
});
