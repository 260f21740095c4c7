import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { numberToBytesLE, toHex } from '../src/bytes.js';
import { ORDER } from '../src/ciphersuite.js';
import { Identifier, MAX_NUMERIC_IDENTIFIER } from '../src/identifier.js';
import { codeOf } from './helpers.js';


describe('Identifier encoding (RFC 9591: a non-zero scalar, SerializeScalar on the wire)', () => {
  it('participant n is the scalar n, 32 bytes little-endian; hex is the frost-rs map key', () => {
    const id = Identifier.fromNumber(1);
    expect(id.value).toBe(1n);
    expect(toHex(id.toBytes())).toBe('01' + '00'.repeat(31));
    expect(id.toHex()).toBe('01' + '00'.repeat(31));
    expect(Identifier.fromNumber(258).toHex()).toBe('0201' + '00'.repeat(30));
  });

  it('round-trips through bytes and hex for every non-zero canonical scalar', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: ORDER - 1n }), (v) => {
        const id = Identifier.fromBytes(numberToBytesLE(v, 32));
        expect(id.value).toBe(v);
        expect(Identifier.fromHex(id.toHex()).equals(id)).toBe(true);
        expect(Identifier.fromBytes(id.toBytes()).value).toBe(v);
      }),
    );
  });

  it('accepts uppercase hex but keys by lowercase', () => {
    const upper = ('0a' + '00'.repeat(31)).toUpperCase();
    expect(Identifier.fromHex(upper).toHex()).toBe('0a' + '00'.repeat(31));
  });
});

describe('Identifier rejection', () => {
  it('refuses zero in every form', () => {
    expect(codeOf(() => Identifier.fromNumber(0))).toBe('INVALID_IDENTIFIER');
    expect(codeOf(() => Identifier.fromBytes(new Uint8Array(32)))).toBe('INVALID_IDENTIFIER');
    expect(codeOf(() => Identifier.fromHex('00'.repeat(32)))).toBe('INVALID_IDENTIFIER');
  });

  it('refuses non-canonical scalars (≥ L), even though they reduce to a valid one', () => {
    expect(Identifier.fromBytes(numberToBytesLE(ORDER - 1n, 32)).value).toBe(ORDER - 1n);
    for (const v of [ORDER, ORDER + 1n, 2n ** 256n - 1n]) expect(codeOf(() => Identifier.fromBytes(numberToBytesLE(v, 32)))).toBe('INVALID_IDENTIFIER');
  });

  it('refuses numbers outside 1..65535 and non-integers', () => {
    expect(Identifier.fromNumber(MAX_NUMERIC_IDENTIFIER).value).toBe(65535n);
    for (const n of [-1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(codeOf(() => Identifier.fromNumber(n))).toBe('INVALID_IDENTIFIER');
  });

  it('refuses wrong lengths and anything that is not exactly 64 hex digits', () => {
    for (const len of [0, 31, 33]) expect(codeOf(() => Identifier.fromBytes(new Uint8Array(len)))).toBe('INVALID_IDENTIFIER');
    for (const hex of ['01', '01' + '00'.repeat(31) + '0', 'zz' + '00'.repeat(31), ' 1' + '00'.repeat(31)]) {
      expect(codeOf(() => Identifier.fromHex(hex))).toBe('INVALID_IDENTIFIER');
    }
  });
});

describe('Identifier order and display', () => {
  it('orders by scalar value, not by encoding (256 encodes as 0001…, 1 as 01…)', () => {
    const ids = [256, 1, 65535, 2].map((n) => Identifier.fromNumber(n));
    expect(ids.sort(Identifier.compare).map((i) => i.value)).toEqual([1n, 2n, 256n, 65535n]);
    expect(Identifier.compare(Identifier.fromNumber(3), Identifier.fromNumber(3))).toBe(0);
  });

  it('shows small identifiers as their number, others as hex', () => {
    expect(String(Identifier.fromNumber(42))).toBe('42');
    expect(Identifier.fromNumber(42).toNumber()).toBe(42);
    const big = Identifier.fromBytes(numberToBytesLE(70000n, 32));
    expect(big.toNumber()).toBeUndefined();
    expect(String(big)).toBe(big.toHex());
  });
});
