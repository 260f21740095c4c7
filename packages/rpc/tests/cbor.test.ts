import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CBOR_CONTENT_TYPE, decodeCbor, encodeCbor } from '../src/cbor.js';
import { WireFormatError } from '../src/errors.js';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

/** The WireFormatError `fn` throws (fails the test when it throws nothing or something else). */
function wireError(fn: () => unknown): WireFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WireFormatError);
    return e as WireFormatError;
  }
  throw new Error('expected a WireFormatError, nothing was thrown');
}

// Plain data as the RPC bodies use it: maps with string keys, arrays, strings, safe integers, finite
// and infinite doubles, booleans, null and byte strings. -0 is left out: CBOR encoders may write it
// as the integer 0, which is the same number to every consumer here.
const plainData = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.maxSafeInteger(),
    fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)),
    fc.string({ unit: 'grapheme' }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 4 }),
    // '__proto__' is special in cbor-x (see the dedicated test), every other key round-trips.
    fc.dictionary(fc.string().filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

/** Asserts that every byte string in `decoded` is a Uint8Array where `original` had one, recursively. */
function expectSameByteStrings(original: unknown, decoded: unknown): void {
  if (original instanceof Uint8Array) {
    expect(decoded).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(decoded as Uint8Array).equals(Buffer.from(original))).toBe(true);
  } else if (Array.isArray(original)) {
    original.forEach((v, i) => expectSameByteStrings(v, (decoded as unknown[])[i]));
  } else if (typeof original === 'object' && original !== null) {
    for (const [k, v] of Object.entries(original)) expectSameByteStrings(v, (decoded as Record<string, unknown>)[k]);
  }
}

describe('CBOR codec', () => {
  it('uses the registered media type', () => {
    expect(CBOR_CONTENT_TYPE).toBe('application/cbor');
  });

  it('round-trips an RPC-shaped map with byte strings, which stay byte strings', () => {
    const value = {
      key_id: 'default',
      message: new Uint8Array([0, 1, 2, 255]),
      empty: new Uint8Array(0),
      commitments: [{ identifier: new Uint8Array(32).fill(7), hiding: new Uint8Array(32).fill(9) }],
      count: 3,
      big: Number.MAX_SAFE_INTEGER,
      negative: -42,
      ratio: 0.25,
      ok: true,
      none: null,
      text: 'grüße ❄',
    };
    const decoded = decodeCbor(encodeCbor(value)) as Record<string, unknown>;
    expect(decoded).toEqual(value);
    expect(decoded.message).toBeInstanceOf(Uint8Array);
    expect(decoded.empty).toBeInstanceOf(Uint8Array);
    expectSameByteStrings(value, decoded);
  });

  it('encodes byte strings as CBOR byte strings (major type 2), not as tagged typed arrays or arrays', () => {
    // A peer in another language must see a plain bstr: 0x43 = byte string of length 3.
    expect(Buffer.from(encodeCbor(new Uint8Array([1, 2, 3]))).toString('hex')).toBe('43010203');
    // And decodes a plain bstr as bytes.
    expect(decodeCbor(hex('43010203'))).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('decodes maps to plain objects and text to strings', () => {
    // {"a": 1, "b": [true, null]} written by hand as the protocol's encoder writes it (16-bit map length).
    const decoded = decodeCbor(hex('b90002616101616282f5f6'));
    expect(decoded).toEqual({ a: 1, b: [true, null] });
    expect(decoded).not.toBeInstanceOf(Map);
  });

  it.each([
    ['another encoding of the same value (1-byte map length)', 'a2616101616282f5f6'],
    ['a lone break byte (the decoder alone reads it as {})', 'ff'],
    ['a break byte inside an array', '81ff'],
    ['a map with a duplicate key (the decoder alone keeps the last)', 'b90002616101616102'],
  ])('refuses %s with MALFORMED_CBOR', (_what, h) => {
    expect(wireError(() => decodeCbor(hex(h))).code).toBe('MALFORMED_CBOR');
  });

  it('refuses empty input with MALFORMED_CBOR', () => {
    const e = wireError(() => decodeCbor(new Uint8Array(0)));
    expect(e.code).toBe('MALFORMED_CBOR');
  });

  it.each([
    ['a reserved additional-info value', '1c'],
    ['a truncated 1-byte integer', '18'],
    ['a byte string longer than the input', '5affffffff00'],
    ['a truncated map', 'a26161'],
    ['a text string cut in half', '6568656c'],
  ])('refuses garbage (%s) with MALFORMED_CBOR', (_what, h) => {
    expect(wireError(() => decodeCbor(hex(h))).code).toBe('MALFORMED_CBOR');
  });

  it.each([
    ['two integers', '0102'],
    ['a map followed by a zero byte', 'a0' + '00'],
    ['two encoded messages back to back', Buffer.concat([encodeCbor({ a: 1 }), encodeCbor({ b: 2 })]).toString('hex')],
  ])('refuses trailing bytes / more than one item (%s) with MALFORMED_CBOR', (_what, h) => {
    const e = wireError(() => decodeCbor(hex(h)));
    expect(e.code).toBe('MALFORMED_CBOR');
    expect(e.message).toMatch(/exactly one/);
  });

  it('a refused input does not disturb the next decode (the decoder is shared)', () => {
    wireError(() => decodeCbor(hex('a26161')));
    expect(decodeCbor(encodeCbor({ after: new Uint8Array([5]) }))).toEqual({ after: new Uint8Array([5]) });
  });

  it('a "__proto__" key in a map does not set the prototype of the decoded object', () => {
    // {"__proto__": {"polluted": 1}}: must not become an inherited property of the result.
    const bytes = hex('b90001' + '69' + Buffer.from('__proto__').toString('hex') + 'b90001' + '68' + Buffer.from('polluted').toString('hex') + '01');
    let decoded: Record<string, unknown> = {};
    try {
      decoded = decodeCbor(bytes) as Record<string, unknown>;
    } catch (e) {
      expect((e as { code?: string }).code).toBe('MALFORMED_CBOR');
    }
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(decoded.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('property: plain data round-trips, byte strings included', () => {
    fc.assert(
      fc.property(plainData, (value) => {
        const decoded = decodeCbor(encodeCbor(value));
        expect(decoded).toEqual(value);
        expectSameByteStrings(value, decoded);
      }),
      { numRuns: 300 },
    );
  });

  it('property: arbitrary bytes never crash the decoder, they decode or throw WireFormatError MALFORMED_CBOR', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeCbor(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(WireFormatError);
          expect((e as WireFormatError).code).toBe('MALFORMED_CBOR');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a valid message with bytes changed, cut or appended decodes or throws WireFormatError, nothing else', () => {
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('append' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    );
    fc.assert(
      fc.property(plainData, edit, (value, e) => {
        const valid = encodeCbor(value);
        let bytes: Uint8Array;
        if (e.kind === 'flip') {
          bytes = Uint8Array.from(valid);
          bytes[e.at % bytes.length] = e.byte;
        } else if (e.kind === 'cut') {
          bytes = valid.subarray(0, e.at % valid.length);
        } else {
          bytes = Uint8Array.from([...valid, ...e.extra]);
        }
        try {
          decodeCbor(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(WireFormatError);
        }
        // Appending always makes a second item or garbage after a complete one: never accepted.
        if (e.kind === 'append') expect(() => decodeCbor(bytes)).toThrow(WireFormatError);
      }),
      { numRuns: 500 },
    );
  });
});
