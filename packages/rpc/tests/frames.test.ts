import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { WireFormatError } from '../src/errors.js';
import { MAX_FRAME_AUTHORIZATION, decodeFrame, encodeAnswerFrame, encodeRequestFrame } from '../src/frames.js';

const body = Uint8Array.from([0xa1, 0x61, 0x61, 0x01]);

describe('channel frames', () => {
  it('a request frame round-trips: id, path, authorization and the exact body bytes', () => {
    const f = decodeFrame(encodeRequestFrame(0xfffffffe, '/v1/round2', 'Bearer a.b.c', body));
    expect(f).toEqual({ type: 'request', id: 0xfffffffe, path: '/v1/round2', authorization: 'Bearer a.b.c', body: Buffer.from(body) });
  });

  it('an answer frame round-trips: id, status and body', () => {
    expect(decodeFrame(encodeAnswerFrame(7, 409, body))).toEqual({ type: 'answer', id: 7, status: 409, body: Buffer.from(body) });
    expect(decodeFrame(encodeAnswerFrame(0, 200, new Uint8Array(0)))).toEqual({ type: 'answer', id: 0, status: 200, body: Buffer.alloc(0) });
  });

  it('property: any request frame decodes to what was encoded', () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), printable.filter((p) => p.length >= 1 && p.length <= 64), printable.filter((a) => a.length <= 300), fc.uint8Array({ maxLength: 300 }), (id, path, authorization, b) => {
        const f = decodeFrame(encodeRequestFrame(id, path, authorization, b));
        expect(f).toEqual({ type: 'request', id, path, authorization, body: Buffer.from(b) });
      }),
    );
  });

  it.each<[string, Uint8Array]>([
    ['an empty frame', new Uint8Array(0)],
    ['a truncated header', Uint8Array.from([1, 0, 0])],
    ['an unknown type', Uint8Array.from([9, 0, 0, 0, 1, 0, 0])],
    ['a path length of 0', Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0])],
    ['a path running past the end', Uint8Array.from([1, 0, 0, 0, 1, 40, 0x2f])],
    ['an authorization running past the end', Buffer.concat([Buffer.from([1, 0, 0, 0, 1, 1, 0x2f]), Buffer.from([0x00, 0x10, 0x41])])],
    ['an authorization over 4096 bytes', Buffer.concat([Buffer.from([1, 0, 0, 0, 1, 1, 0x2f, 0x10, 0x01]), Buffer.alloc(4097, 0x41)])],
    ['a control character in the path', Buffer.from([1, 0, 0, 0, 1, 2, 0x2f, 0x0a, 0, 0])],
    ['a non-ASCII byte in the authorization', Buffer.from([1, 0, 0, 0, 1, 1, 0x2f, 0, 1, 0xc3])],
    ['a truncated answer', Uint8Array.from([2, 0, 0, 0, 1, 0])],
  ])('refuses %s with WireFormatError', (_name, bytes) => {
    expect(() => decodeFrame(bytes)).toThrow(WireFormatError);
  });

  it('property: random bytes decode to a frame or fail with WireFormatError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          decodeFrame(b);
        } catch (e) {
          expect(e).toBeInstanceOf(WireFormatError);
        }
      }),
    );
  });

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeRequestFrame(-1, '/x', '', body)).toThrow(RangeError);
    expect(() => encodeRequestFrame(2 ** 32, '/x', '', body)).toThrow(RangeError);
    expect(() => encodeRequestFrame(1, '', '', body)).toThrow(RangeError);
    expect(() => encodeRequestFrame(1, '/'.repeat(65), '', body)).toThrow(RangeError);
    expect(() => encodeRequestFrame(1, '/x', 'é', body)).toThrow(RangeError);
    expect(() => encodeRequestFrame(1, '/x', 'a'.repeat(MAX_FRAME_AUTHORIZATION + 1), body)).toThrow(RangeError);
  });
});
