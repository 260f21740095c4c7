/**
 * Coordinator ↔ signer RPC messages (CBOR bodies) and their strict shape validation. Byte fields are
 * CBOR byte strings; points and scalars are the RFC 9591 encodings.
 * @module
 */
import { BadRequestError } from './errors.js';

export const RPC_PATHS = { round1: '/v1/round1', round2: '/v1/round2', info: '/v1/info' } as const;

/** Key ids name a key set on the signer (`default`, `mint-2026`, ...). */
export const KEY_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface CommitmentWire {
  hiding: Uint8Array;
  binding: Uint8Array;
}

export interface Round1Request {
  key_id: string;
  count: number;
}
export interface Round1Response {
  identifier: Uint8Array;
  commitments: CommitmentWire[];
  ttl_ms: number;
}
export interface Round2Request {
  key_id: string;
  message: Uint8Array;
  commitments: (CommitmentWire & { identifier: Uint8Array })[];
}
export interface Round2Response {
  identifier: Uint8Array;
  share: Uint8Array;
  /**
   * The group commitment R the signer computed (a hint: the coordinator may build the signature from
   * it and verifies the result; a wrong hint only costs it the fast path).
   */
  group_commitment?: Uint8Array;
}
export interface InfoRequest {
  key_id?: string;
}
export interface KeyInfoWire {
  key_id: string;
  verifying_share: Uint8Array;
  verifying_key: Uint8Array;
  min_signers: number;
}
export interface InfoResponse {
  identifier: Uint8Array;
  keys: KeyInfoWire[];
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string, required: readonly string[], optional: readonly string[] = []): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new BadRequestError('INVALID_REQUEST', `${what} must be a map`);
  }
  const o = v as Obj;
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) throw new BadRequestError('INVALID_REQUEST', `${what}: unknown field "${k}"`);
  }
  for (const k of required) if (!(k in o)) throw new BadRequestError('INVALID_REQUEST', `${what}: missing field "${k}"`);
  return o;
}

/** A CBOR byte string of exactly `length` bytes (any length when omitted). */
export function bytes(v: unknown, what: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new BadRequestError('INVALID_REQUEST', `${what} must be a byte string`);
  if (length !== undefined && v.length !== length) throw new BadRequestError('INVALID_REQUEST', `${what} must be ${length} bytes`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new BadRequestError('INVALID_REQUEST', `${what} must be an integer between ${min} and ${max}`);
  }
  return v;
}

function keyId(v: unknown): string {
  if (typeof v !== 'string' || !KEY_ID_RE.test(v)) throw new BadRequestError('INVALID_REQUEST', 'key_id must match ' + KEY_ID_RE.source);
  return v;
}

function list(v: unknown, what: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v) || v.length < min || v.length > max) {
    throw new BadRequestError('INVALID_REQUEST', `${what} must be an array of ${min}..${max} entries`);
  }
  return v;
}

export function parseRound1Request(v: unknown, maxCount: number): Round1Request {
  const o = obj(v, 'round1 request', ['key_id', 'count']);
  return { key_id: keyId(o.key_id), count: int(o.count, 'count', 1, maxCount) };
}

export function parseRound1Response(v: unknown): Round1Response {
  const o = obj(v, 'round1 response', ['identifier', 'commitments', 'ttl_ms']);
  return {
    identifier: bytes(o.identifier, 'identifier', 32),
    commitments: list(o.commitments, 'commitments', 1, 100_000).map((c, i) => {
      const e = obj(c, `commitments[${i}]`, ['hiding', 'binding']);
      return { hiding: bytes(e.hiding, 'hiding', 32), binding: bytes(e.binding, 'binding', 32) };
    }),
    ttl_ms: int(o.ttl_ms, 'ttl_ms', 0, 2 ** 31),
  };
}

export function parseRound2Request(v: unknown, maxParticipants = 255): Round2Request {
  const o = obj(v, 'round2 request', ['key_id', 'message', 'commitments']);
  return {
    key_id: keyId(o.key_id),
    message: bytes(o.message, 'message'),
    commitments: list(o.commitments, 'commitments', 1, maxParticipants).map((c, i) => {
      const e = obj(c, `commitments[${i}]`, ['identifier', 'hiding', 'binding']);
      return {
        identifier: bytes(e.identifier, 'identifier', 32),
        hiding: bytes(e.hiding, 'hiding', 32),
        binding: bytes(e.binding, 'binding', 32),
      };
    }),
  };
}

export function parseRound2Response(v: unknown): Round2Response {
  const o = obj(v, 'round2 response', ['identifier', 'share'], ['group_commitment']);
  const r: Round2Response = { identifier: bytes(o.identifier, 'identifier', 32), share: bytes(o.share, 'share', 32) };
  if (o.group_commitment !== undefined) r.group_commitment = bytes(o.group_commitment, 'group_commitment', 32);
  return r;
}

export function parseInfoRequest(v: unknown): InfoRequest {
  const o = obj(v, 'info request', [], ['key_id']);
  return o.key_id === undefined ? {} : { key_id: keyId(o.key_id) };
}

export function parseInfoResponse(v: unknown): InfoResponse {
  const o = obj(v, 'info response', ['identifier', 'keys']);
  return {
    identifier: bytes(o.identifier, 'identifier', 32),
    keys: list(o.keys, 'keys', 0, 1000).map((k, i) => {
      const e = obj(k, `keys[${i}]`, ['key_id', 'verifying_share', 'verifying_key', 'min_signers']);
      return {
        key_id: keyId(e.key_id),
        verifying_share: bytes(e.verifying_share, 'verifying_share', 32),
        verifying_key: bytes(e.verifying_key, 'verifying_key', 32),
        min_signers: int(e.min_signers, 'min_signers', 2, 65535),
      };
    }),
  };
}
