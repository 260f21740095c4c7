import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { bytesEqual, bytesToNumberLE, concatBytes, fromHexStrict, numberToBytesLE, toHex } from '../src/bytes.js';

describe('little-endian integers', () => {
  it('put the least significant byte first', () => {
    expect([...numberToBytesLE(0x010203n, 4)]).toEqual([3, 2, 1, 0]);
    expect(bytesToNumberLE(Uint8Array.from([3, 2, 1, 0]))).toBe(0x010203n);
    expect(bytesToNumberLE(new Uint8Array(0))).toBe(0n);
  });

  it('round-trip every value that fits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }).chain((len) => fc.tuple(fc.constant(len), fc.bigInt({ min: 0n, max: (1n << BigInt(8 * len)) - 1n }))), ([len, n]) => {
        const bytes = numberToBytesLE(n, len);
        expect(bytes).toHaveLength(len);
        expect(bytesToNumberLE(bytes)).toBe(n);
      }),
    );
  });

  it('refuse a value that does not fit or is negative instead of truncating it', () => {
    expect(() => numberToBytesLE(1n << 256n, 32)).toThrow(RangeError);
    expect(() => numberToBytesLE(-1n, 32)).toThrow(RangeError);
    expect([...numberToBytesLE((1n << 256n) - 1n, 32)]).toEqual(new Array(32).fill(255));
  });
});

describe('concatBytes and bytesEqual', () => {
  it('concatenates in order into a new array', () => {
    const a = Uint8Array.from([1, 2]);
    const out = concatBytes(a, new Uint8Array(0), Uint8Array.from([3]));
    expect([...out]).toEqual([1, 2, 3]);
    out[0] = 9;
    expect(a[0]).toBe(1);
    expect(concatBytes()).toHaveLength(0);
  });

  it('compares content and length, including subarray views', () => {
    const backing = Uint8Array.from([0, 1, 2, 3]);
    expect(bytesEqual(backing.subarray(1, 3), Uint8Array.from([1, 2]))).toBe(true);
    expect(bytesEqual(Uint8Array.from([1, 2]), Uint8Array.from([1, 3]))).toBe(false);
    expect(bytesEqual(Uint8Array.from([1, 2]), Uint8Array.from([1, 2, 0]))).toBe(false);
    expect(bytesEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});

describe('hex', () => {
  it('toHex is lowercase and respects subarray views', () => {
    const backing = Uint8Array.from([0xff, 0xab, 0x01, 0xee]);
    expect(toHex(backing.subarray(1, 3))).toBe('ab01');
  });

  it('fromHexStrict accepts even-length hex of either case and round-trips', () => {
    expect([...fromHexStrict('ABcd00')!]).toEqual([0xab, 0xcd, 0]);
    expect(fromHexStrict('')).toHaveLength(0);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => expect(fromHexStrict(toHex(b))).toEqual(b)));
  });

  it('fromHexStrict decodes into an ArrayBuffer of its own, exactly as long as the bytes', () => {
    for (const len of [0, 1, 32, 100]) {
      const out = fromHexStrict('ab'.repeat(len))!;
      expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
      expect({ offset: out.byteOffset, length: out.length, buffer: out.buffer.byteLength }).toEqual({ offset: 0, length: len, buffer: len });
    }
  });

  it("fromHexStrict leaves no copy of what it decoded in Node's shared Buffer pool", () => {
    // Small Buffers are views of one shared slab; whatever is decoded through it (a signing share)
    // stays there and travels with every other view of the slab. Random bytes cannot be there by chance.
    const secret = randomBytes(32);
    const hex = secret.toString('hex');
    secret.fill(0);
    const before = Buffer.allocUnsafe(1).buffer;
    const decoded = fromHexStrict(hex)!;
    const after = Buffer.allocUnsafe(1).buffer;
    expect(toHex(decoded)).toBe(hex);
    for (const slab of [before, after]) expect(Buffer.from(slab).indexOf(Buffer.from(decoded.buffer))).toBe(-1);
  });

  it('fromHexStrict refuses what Buffer.from(…, "hex") would silently truncate', () => {
    for (const bad of ['abc', 'zz', '0g', 'ab cd', '0x00', 'ab\n', ' ab']) expect(fromHexStrict(bad)).toBeUndefined();
    expect(fromHexStrict(42 as unknown as string)).toBeUndefined();
  });
});
