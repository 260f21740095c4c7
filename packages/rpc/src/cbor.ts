/**
 * CBOR codec for RPC bodies (RFC 8949) with cbor-x, configured for plain data only: no records, no
 * structured clone extensions; maps decode to objects. Shapes are validated by the callers.
 *
 * Decoding is strict: a walk over the raw bytes admits only the data model this protocol writes
 * before cbor-x sees them. cbor-x honours its own extension tags (packed tables, records, shared
 * references) whatever its options say, and a few bytes of those can make it build megabytes; the
 * walk refuses every tag, so a hostile peer's body costs at most a small multiple of its size.
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { Decoder, Encoder } from 'cbor-x';
import { WireFormatError } from './errors.js';

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, pack: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export const CBOR_CONTENT_TYPE = 'application/cbor';

/**
 * Deepest nesting of arrays and maps in a body (the RPC messages use three levels: a map, a list of
 * commitments or keys, their maps). Also keeps cbor-x's recursive decoder far from the stack limit.
 */
export const MAX_CBOR_DEPTH = 8;

export function encodeCbor(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/**
 * Decodes one CBOR item; throws WireFormatError MALFORMED_CBOR, with the reason, on anything but one
 * well-formed item of the protocol's data model ({@link checkWellFormed}), and on any encoding other
 * than the one {@link encodeCbor} writes for the decoded value. Both ends of the RPC use this codec,
 * so one encoding per message costs nothing, and the comparison closes what the walk leaves to it
 * (non-shortest heads, duplicate map keys where the last would win, map order).
 */
export function decodeCbor(bytes: Uint8Array): unknown {
  checkWellFormed(bytes);
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch {
    throw malformed('body is not valid CBOR');
  }
  if (Buffer.compare(encoder.encode(value), bytes) !== 0) throw malformed('body is not in the encoding this protocol writes');
  return value;
}

/**
 * Checks that `bytes` hold exactly one CBOR item made only of what this protocol writes: integers of
 * up to 32 bits (cbor-x writes larger numbers as floats), byte strings, UTF-8 text strings, arrays,
 * maps with text-string keys, false, true and null, with definite lengths and at most
 * {@link MAX_CBOR_DEPTH} levels of nesting. Every tag (major type 6), indefinite length, float,
 * `undefined` and other simple value is refused, and so is any declared length or count that the
 * remaining bytes cannot hold (every element takes at least one byte), before anything is allocated.
 * Throws WireFormatError MALFORMED_CBOR naming the reason and the byte offset.
 */
function checkWellFormed(bytes: Uint8Array): void {
  if (bytes.length === 0) throw malformed('empty body');
  const end = item(bytes, 0, 0);
  if (end !== bytes.length) throw malformed(`body must hold exactly one CBOR item (${bytes.length - end} bytes follow it at byte ${end})`);
}

const KIND = ['unsigned integer', 'negative integer', 'byte string', 'text string', 'array', 'map', 'tag', 'simple value'] as const;

function malformed(reason: string): WireFormatError {
  return new WireFormatError('MALFORMED_CBOR', reason);
}

/** The argument of the head at `at` (RFC 8949 §3) and the offset after the head. */
function head(b: Uint8Array, at: number): { info: number; arg: number; next: number } {
  const info = b[at]! & 0x1f;
  if (info < 24) return { info, arg: info, next: at + 1 };
  if (info > 27) throw malformed(info === 31 ? `indefinite-length ${KIND[b[at]! >> 5]} at byte ${at}` : `reserved additional information ${info} at byte ${at}`);
  const size = 1 << (info - 24);
  if (at + 1 + size > b.length) throw malformed(`${KIND[b[at]! >> 5]} head truncated at byte ${at}`);
  // Big-endian; a 64-bit argument is only compared with lengths below 2^32, where rounding is harmless.
  let arg = 0;
  for (let i = 1; i <= size; i++) arg = arg * 256 + b[at + i]!;
  return { info, arg, next: at + 1 + size };
}

/** Walks the item at `at`, nested `depth` containers deep; returns the offset after it. */
function item(b: Uint8Array, at: number, depth: number): number {
  if (at >= b.length) throw malformed(`truncated: an item is missing at byte ${at}`);
  const major = b[at]! >> 5;
  if (major === 7) return simple(b, at);
  if (major === 6) throw malformed(`tag ${tagNumber(b, at)} at byte ${at}: tags are not accepted`);
  const { info, arg, next } = head(b, at);
  const left = b.length - next;
  switch (major) {
    case 0:
    case 1:
      if (info === 27) throw malformed(`integers beyond 32 bits are not accepted (byte ${at})`);
      return next;
    case 2:
    case 3:
      if (arg > left) throw malformed(`${KIND[major]} of ${arg} bytes at byte ${at} runs past the end of the body`);
      if (major === 3 && !isUtf8(b.subarray(next, next + arg))) throw malformed(`text string at byte ${at} is not valid UTF-8`);
      return next + arg;
    case 4: {
      if (depth >= MAX_CBOR_DEPTH) throw malformed(`nested deeper than ${MAX_CBOR_DEPTH} levels at byte ${at}`);
      if (arg > left) throw malformed(`array of ${arg} items at byte ${at} cannot fit in the ${left} bytes that follow`);
      let p = next;
      for (let i = 0; i < arg; i++) p = item(b, p, depth + 1);
      return p;
    }
    default: {
      if (depth >= MAX_CBOR_DEPTH) throw malformed(`nested deeper than ${MAX_CBOR_DEPTH} levels at byte ${at}`);
      if (arg * 2 > left) throw malformed(`map of ${arg} entries at byte ${at} cannot fit in the ${left} bytes that follow`);
      let p = next;
      for (let i = 0; i < arg; i++) {
        if (p < b.length && b[p]! >> 5 !== 3) throw malformed(`map key at byte ${p} is not a text string`);
        p = item(b, item(b, p, depth + 1), depth + 1);
      }
      return p;
    }
  }
}

/** Major type 7: false, true and null pass; floats, undefined, other simple values and breaks do not. */
function simple(b: Uint8Array, at: number): number {
  const info = b[at]! & 0x1f;
  switch (info) {
    case 20: // false
    case 21: // true
    case 22: // null
      return at + 1;
    case 23:
      throw malformed(`undefined is not accepted (byte ${at})`);
    case 24:
      throw malformed(at + 1 < b.length ? `simple value ${b[at + 1]} is not accepted (byte ${at})` : `simple value head truncated at byte ${at}`);
    case 25:
    case 26:
    case 27:
      throw malformed(`floating-point numbers are not accepted (byte ${at})`);
    case 31:
      throw malformed(`break byte at byte ${at} outside an indefinite-length item`);
    default:
      throw malformed(info < 24 ? `simple value ${info} is not accepted (byte ${at})` : `reserved additional information ${info} at byte ${at}`);
  }
}

/** The tag number at `at`, for the message (exact up to 2^64 − 1; `?` when the head is cut off). */
function tagNumber(b: Uint8Array, at: number): string {
  const info = b[at]! & 0x1f;
  if (info < 24) return String(info);
  const size = info <= 27 ? 1 << (info - 24) : 0;
  if (size === 0 || at + 1 + size > b.length) return '?';
  let n = 0n;
  for (let i = 1; i <= size; i++) n = (n << 8n) | BigInt(b[at + i]!);
  return n.toString();
}
