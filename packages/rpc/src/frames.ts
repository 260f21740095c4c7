/**
 * The frames of the signer channel: one WebSocket binary message per RPC request or answer, so that
 * many RPCs share one mutual-TLS connection and each answer finds its request by id.
 *
 * The envelope is a fixed binary layout read by offset, not CBOR: a signer reads the path and the
 * bearer token of a request, and checks the token against the exact body bytes, before it decodes
 * anything (the body is the same CBOR an HTTP request carries). All integers are big-endian.
 *
 * ```
 * request:  0x01 | id u32 | path length u8 | path (ASCII) | token length u16 | Authorization value (ASCII) | body
 * answer:   0x02 | id u32 | status u16 | body (CBOR when 200, else the JSON error body of an HTTP answer)
 * ```
 * @module
 */
import { WireFormatError } from './errors.js';

/** The WebSocket subprotocol of this layout; another layout gets another name. */
export const CHANNEL_PROTOCOL = 'frost-rpc.v1';

const REQUEST = 0x01;
const ANSWER = 0x02;
/** Longest path a request frame carries (RPC paths are short; the length field is one byte). */
export const MAX_FRAME_PATH = 64;
/** Longest Authorization value a request frame carries (the token verifier refuses longer ones anyway). */
export const MAX_FRAME_AUTHORIZATION = 4096;
/** Bytes a request frame adds to its body, at most: what a signer allows beyond its body limit. */
export const MAX_REQUEST_FRAME_OVERHEAD = 1 + 4 + 1 + MAX_FRAME_PATH + 2 + MAX_FRAME_AUTHORIZATION;
/** Bytes an answer frame adds to its body. */
export const ANSWER_FRAME_OVERHEAD = 1 + 4 + 2;

export interface RequestFrame {
  type: 'request';
  id: number;
  path: string;
  /** The Authorization value, as an HTTP request carries it (`Bearer <jwt>`); empty when none was sent. */
  authorization: string;
  body: Uint8Array;
}

export interface AnswerFrame {
  type: 'answer';
  id: number;
  status: number;
  body: Uint8Array;
}

const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;

function malformed(reason: string): WireFormatError {
  return new WireFormatError('INVALID_REQUEST', `channel frame: ${reason}`);
}

export function encodeRequestFrame(id: number, path: string, authorization: string, body: Uint8Array): Uint8Array {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError('frame id must be a u32');
  if (path.length === 0 || path.length > MAX_FRAME_PATH || !ASCII_PRINTABLE.test(path)) throw new RangeError('frame path must be 1..64 printable ASCII characters');
  if (authorization.length > MAX_FRAME_AUTHORIZATION || !ASCII_PRINTABLE.test(authorization)) throw new RangeError('frame authorization must be at most 4096 printable ASCII characters');
  const out = Buffer.allocUnsafe(1 + 4 + 1 + path.length + 2 + authorization.length + body.length);
  let at = out.writeUInt8(REQUEST, 0);
  at = out.writeUInt32BE(id, at);
  at = out.writeUInt8(path.length, at);
  at += out.write(path, at, 'latin1');
  at = out.writeUInt16BE(authorization.length, at);
  at += out.write(authorization, at, 'latin1');
  out.set(body, at);
  return out;
}

export function encodeAnswerFrame(id: number, status: number, body: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(ANSWER_FRAME_OVERHEAD + body.length);
  out.writeUInt8(ANSWER, 0);
  out.writeUInt32BE(id, 1);
  out.writeUInt16BE(status, 5);
  out.set(body, ANSWER_FRAME_OVERHEAD);
  return out;
}

/**
 * Reads a frame's envelope; the body is a view of `bytes` (not copied, not decoded). Throws
 * WireFormatError INVALID_REQUEST on anything but one whole frame of this layout.
 */
export function decodeFrame(bytes: Uint8Array): RequestFrame | AnswerFrame {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 5) throw malformed('shorter than its header');
  const id = b.readUInt32BE(1);
  switch (b[0]) {
    case REQUEST: {
      if (b.length < 6) throw malformed('request header truncated');
      const pathLength = b[5]!;
      const pathEnd = 6 + pathLength;
      if (pathLength === 0 || pathLength > MAX_FRAME_PATH || b.length < pathEnd + 2) throw malformed('bad path length');
      const path = b.toString('latin1', 6, pathEnd);
      const authLength = b.readUInt16BE(pathEnd);
      const authEnd = pathEnd + 2 + authLength;
      if (authLength > MAX_FRAME_AUTHORIZATION || b.length < authEnd) throw malformed('bad authorization length');
      const authorization = b.toString('latin1', pathEnd + 2, authEnd);
      if (!ASCII_PRINTABLE.test(path) || !ASCII_PRINTABLE.test(authorization)) throw malformed('path and authorization must be printable ASCII');
      return { type: 'request', id, path, authorization, body: b.subarray(authEnd) };
    }
    case ANSWER: {
      if (b.length < ANSWER_FRAME_OVERHEAD) throw malformed('answer header truncated');
      return { type: 'answer', id, status: b.readUInt16BE(5), body: b.subarray(ANSWER_FRAME_OVERHEAD) };
    }
    default:
      throw malformed(`unknown frame type ${b[0]}`);
  }
}
