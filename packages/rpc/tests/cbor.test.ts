import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Decoder, Encoder } from 'cbor-x';
import fc from 'fast-check';
import { CBOR_CONTENT_TYPE, MAX_CBOR_DEPTH, decodeCbor, encodeCbor } from '../src/cbor.js';
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

// Plain data as the RPC bodies use it: maps with string keys, arrays, strings, integers of up to 32
// bits (the encoder writes larger numbers as floats, which the protocol refuses), booleans, null and
// byte strings, nested no deeper than the decoder allows.
const plainData = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: MAX_CBOR_DEPTH - 1 },
    fc.integer({ min: -(2 ** 32), max: 2 ** 32 - 1 }),
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
      negative: -42,
      widest: 2 ** 32 - 1,
      lowest: -(2 ** 32),
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

/**
 * A 12 KB body that cbor-x's packed-table extension expands to ~85 MB: tag 51 declares a prefix table
 * whose entry 1 is an array of 4,000 integers, then 2,660 three-byte "prefix 1" tags (225) each make
 * a fresh copy of that array.
 */
function expandingPackedBody(): Uint8Array {
  const big = Buffer.concat([Buffer.from('990fa0', 'hex'), Buffer.alloc(4000)]);
  const refs = 2660;
  const rump = Buffer.concat([Buffer.from([0x99, refs >> 8, refs & 0xff]), Buffer.from('d8e180'.repeat(refs), 'hex')]);
  return Uint8Array.from(Buffer.concat([Buffer.from('d833' + '84' + '8100' + '8200', 'hex'), big, Buffer.from('80', 'hex'), rump]));
}

describe('CBOR codec: strict decoding (only what this protocol writes reaches cbor-x)', () => {
  // cbor-x is never handed a refused body: what it would build from one is exactly what is at stake.
  const decoderCalls = () => {
    const spies = [jest.spyOn(Decoder.prototype, 'decode'), jest.spyOn(Decoder.prototype, 'decodeMultiple')];
    return () => spies.reduce((n, s) => n + s.mock.calls.length, 0);
  };
  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** Refused with MALFORMED_CBOR and a reason matching `reason`, before cbor-x sees the bytes. */
  function expectRefused(bytes: Uint8Array, reason: RegExp): void {
    const calls = decoderCalls();
    const e = wireError(() => decodeCbor(bytes));
    expect(e.code).toBe('MALFORMED_CBOR');
    expect(e.message).toMatch(reason);
    expect(calls()).toBe(0);
  }

  it('a body the protocol writes still reaches cbor-x and decodes', () => {
    const calls = decoderCalls();
    expect(decodeCbor(encodeCbor({ a: [1, -2, 'x', new Uint8Array([3]), true, false, null] }))).toEqual({ a: [1, -2, 'x', new Uint8Array([3]), true, false, null] });
    expect(calls()).toBeGreaterThan(0);
  });

  it.each([
    ["cbor-x's packed table (tag 51)", new Encoder({ pack: true, useRecords: false }).encode([{ name: 'abcdefgh' }, { name: 'abcdefgh' }, 'abcdefgh']), /tag 51 at byte 0/],
    ["cbor-x's records (tag 57343)", new Encoder({ useRecords: true }).encode([{ key_id: 'default', count: 3 }, { key_id: 'default', count: 3 }]), /tag 57343 at byte 1/],
    ["cbor-x's shared references (tag 28)", (() => { const o = { a: 1 }; return new Encoder({ structuredClone: true, useRecords: false }).encode([o, o]); })(), /tag 28 at byte 1/],
    ['a 12 KB packed body that expands to ~85 MB', expandingPackedBody(), /tag 51 at byte 0/],
    ['a standard date tag inside a map', hex('b90001616ac074323032362d30312d30315430303a30303a30305a'), /tag 0 at byte 5/],
    ['a tag with a 64-bit number', hex('db000000010000000000'), /tag 4294967296 at byte 0/],
  ])('refuses %s: tags are not accepted', (_what, bytes, reason) => {
    expect(bytes.length).toBeGreaterThan(0);
    expectRefused(Uint8Array.from(bytes), reason);
    expectRefused(Uint8Array.from(bytes), /tags are not accepted/);
  });

  it.each([
    ['array', '9f0102ff'],
    ['map', 'bf616101ff'],
    ['byte string', '5f420102ff'],
    ['text string', '7f626869ff'],
  ])('refuses an indefinite-length %s', (kind, h) => {
    expectRefused(hex(h), new RegExp(`indefinite-length ${kind} at byte 0`));
  });

  it.each([
    ['a half-precision float', 'f93c00'],
    ['a single-precision float', 'fa3f800000'],
    ['a double', 'fb3fe0000000000000'],
    ['a double the encoder wrote for a fraction', Buffer.from(encodeCbor({ ttl_ms: 0.5 })).toString('hex')],
    ['a double the encoder wrote for an integer beyond 32 bits', Buffer.from(encodeCbor([2 ** 40])).toString('hex')],
  ])('refuses %s', (_what, h) => {
    expectRefused(hex(h), /floating-point numbers are not accepted/);
  });

  it.each([
    ['undefined', 'f7', /undefined is not accepted/],
    ['simple value 0 (a packed-value reference for cbor-x)', 'e0', /simple value 0 is not accepted/],
    ['a one-byte simple value', 'f820', /simple value 32 is not accepted/],
    ['a break byte outside an indefinite-length item', '8201ff', /break byte at byte 2/],
    ['a 64-bit unsigned integer', '1b0000000100000000', /integers beyond 32 bits are not accepted/],
    ['a 64-bit negative integer', '3b0000000100000000', /integers beyond 32 bits are not accepted/],
    ['a map key that is not a text string', 'b900010102', /map key at byte 3 is not a text string/],
    ['a byte-string map key', 'b900014161' + '02', /map key at byte 3 is not a text string/],
    ['a text string that is not UTF-8', '62c328', /text string at byte 0 is not valid UTF-8/],
  ])('refuses %s', (_what, h, reason) => {
    expectRefused(hex(h), reason);
  });

  it(`refuses nesting deeper than ${MAX_CBOR_DEPTH} arrays or maps, accepts ${MAX_CBOR_DEPTH}`, () => {
    expectRefused(hex('81'.repeat(MAX_CBOR_DEPTH + 1) + '00'), new RegExp(`nested deeper than ${MAX_CBOR_DEPTH} levels at byte ${MAX_CBOR_DEPTH}`));
    expectRefused(hex('b90001616b'.repeat(MAX_CBOR_DEPTH + 1) + '00'), /nested deeper than/);
    // 100,000 levels would overflow a recursive decoder's stack; it is refused at level 9.
    expectRefused(hex('81'.repeat(100_000) + '00'), /nested deeper than/);
    let deepest: unknown = 0;
    for (let i = 0; i < MAX_CBOR_DEPTH; i++) deepest = [deepest];
    expect(decodeCbor(encodeCbor(deepest))).toEqual(deepest);
  });

  it.each([
    ['an array', '9affffffff' + '00', /array of 4294967295 items at byte 0 cannot fit in the 1 bytes that follow/],
    ['an array nested in a map', 'b90001616199ffff0000', /array of 65535 items at byte 5 cannot fit in the 2 bytes that follow/],
    ['a map', 'b90003616100', /map of 3 entries at byte 0 cannot fit in the 3 bytes that follow/],
    ['a byte string', '5a000100000102', /byte string of 65536 bytes at byte 0 runs past the end of the body/],
    ['a text string', '7affffffff61', /text string of 4294967295 bytes at byte 0 runs past the end of the body/],
    ['a 64-bit length', '9b00000001000000000000', /array of 4294967296 items at byte 0 cannot fit/],
  ])('refuses %s whose declared count cannot fit in the remaining bytes', (_what, h, reason) => {
    expectRefused(hex(h), reason);
  });

  it.each([
    ['a truncated head', '19', /truncated at byte 0/],
    ['a map value missing', 'b900016161', /truncated: an item is missing at byte 5/],
    ['a reserved additional information value', '1c', /reserved additional information 28 at byte 0/],
  ])('refuses %s with its position', (_what, h, reason) => {
    expectRefused(hex(h), reason);
  });

  it('a round-1 answer of 1,000 commitments decodes', () => {
    const answer = { identifier: new Uint8Array(32), commitments: Array.from({ length: 1000 }, () => ({ hiding: new Uint8Array(32).fill(1), binding: new Uint8Array(32).fill(2) })), ttl_ms: 60_000 };
    expect(decodeCbor(encodeCbor(answer))).toEqual(answer);
  });
});
