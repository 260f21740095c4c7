/**
 * Validation of the public request bodies (/sign, /v1/sign/batch and /v1/jws), and the JWS signing
 * input (RFC 7515 §5.1) of a /v1/jws request. Strict: unknown fields, wrong types and anything that
 * is not canonical base64/base64url are refused with a stable code; a key id names a known, active
 * key (UNKNOWN_KEY, KEY_RETIRED, KEY_NOT_ACTIVE).
 * @module
 */
import { Identifier, MAX_NUMERIC_IDENTIFIER } from '@hoarfrost/frost';
import { KEY_ID_RE } from '@hoarfrost/rpc';
import { ApiError, type ParticipantId } from './errors.js';
import type { KnownKey, SignerRegistry } from './registry.js';
import type { SignerHandle } from './signer-handle.js';

export interface ParsedSignRequest {
  /** The key named (or the default one), known and active. */
  key: KnownKey;
  message: Uint8Array;
  participants?: Identifier[];
  signers?: SignerHandle[];
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decodes base64 or base64url (padding optional); refuses mixed alphabets and non-canonical input. */
export function decodeBase64Any(s: string): Uint8Array | undefined {
  const url = B64URL.test(s);
  if (!url && !B64.test(s)) return undefined;
  const unpadded = s.replace(/=+$/, '');
  const padding = s.length - unpadded.length;
  if (unpadded.length % 4 === 1) return undefined;
  if (padding > 0 && (s.length % 4 !== 0 || padding !== (4 - (unpadded.length % 4)) % 4)) return undefined;
  const bytes = Buffer.from(unpadded, url ? 'base64url' : 'base64');
  // Re-encode to reject non-zero trailing bits (several strings for one byte sequence).
  const again = bytes.toString(url ? 'base64url' : 'base64').replace(/=+$/, '');
  if (again !== unpadded) return undefined;
  return new Uint8Array(bytes);
}

/** How the API names a participant: its number up to 65535, else its identifier in hex. */
export function participantId(identifier: Identifier): ParticipantId {
  return identifier.toNumber() ?? identifier.toHex();
}

/** A participant named by the caller: an integer 1..65535 or a 64-hex-character identifier. */
function parseParticipant(x: unknown): Identifier | undefined {
  try {
    if (typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= MAX_NUMERIC_IDENTIFIER) return Identifier.fromNumber(x);
    if (typeof x === 'string' && x.length === 64) return Identifier.fromHex(x);
  } catch {
    /* not an identifier */
  }
  return undefined;
}

/** The key a request names (`key_id`, else `defaultKeyId`): a well-formed id of a known, active key. */
export function requestedKey(keyId: unknown, defaultKeyId: string, registry: Pick<SignerRegistry, 'signingKey'>): KnownKey {
  if (keyId === undefined) return registry.signingKey(defaultKeyId);
  if (typeof keyId !== 'string' || !KEY_ID_RE.test(keyId)) throw new ApiError('INVALID_REQUEST', `key_id must be a string matching ${KEY_ID_RE.source}`);
  return registry.signingKey(keyId);
}

/** A /sign body `{msg_b64, key_id?, participants?, signer_urls?}`. */
export function parseSignRequest(body: unknown, defaultKeyId: string, registry: Pick<SignerRegistry, 'signingKey' | 'byUrl'>): ParsedSignRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('INVALID_REQUEST', 'body must be a JSON object');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'msg_b64' && k !== 'key_id' && k !== 'participants' && k !== 'signer_urls') throw new ApiError('UNKNOWN_FIELD', `unknown field "${k.slice(0, 64)}"`);
  }
  if (typeof o.msg_b64 !== 'string') throw new ApiError('INVALID_REQUEST', 'msg_b64 must be a string');
  const message = decodeBase64Any(o.msg_b64);
  if (!message) throw new ApiError('INVALID_BASE64', 'msg_b64 is not canonical base64 or base64url');
  const key = requestedKey(o.key_id, defaultKeyId, registry);
  const pkp = key.pkp;
  const out: ParsedSignRequest = { key, message };
  if (o.participants !== undefined && o.signer_urls !== undefined) {
    throw new ApiError('INVALID_REQUEST', 'give participants or signer_urls, not both');
  }
  if (o.participants !== undefined) {
    const p = o.participants;
    const ids = Array.isArray(p) && p.length <= pkp.maxSigners ? p.map(parseParticipant) : [];
    if (!Array.isArray(p) || p.length > pkp.maxSigners || ids.some((id) => id === undefined)) {
      throw new ApiError('INVALID_PARTICIPANTS', 'participants must be an array of integers 1..65535 or 64-hex-character identifiers');
    }
    if (new Set(ids.map((id) => id!.toHex())).size !== ids.length) throw new ApiError('INVALID_PARTICIPANTS', 'participants must be unique');
    const unknown = (ids as Identifier[]).filter((id) => !pkp.verifyingShares.has(id.toHex()));
    if (unknown.length > 0) throw new ApiError('UNKNOWN_PARTICIPANT', `not in the key set: ${unknown.map(String).join(', ')}`);
    if (ids.length < pkp.minSigners) throw new ApiError('TOO_FEW_PARTICIPANTS', `at least ${pkp.minSigners} participants are required`);
    out.participants = ids as Identifier[];
  }
  if (o.signer_urls !== undefined) {
    const u = o.signer_urls;
    if (!Array.isArray(u) || u.length === 0 || u.length > 1000 || u.some((x) => typeof x !== 'string')) {
      throw new ApiError('INVALID_REQUEST', 'signer_urls must be a non-empty array of strings');
    }
    const handles = (u as string[]).map((url) => {
      const h = registry.byUrl(url);
      if (!h) throw new ApiError('SIGNER_URL_NOT_ALLOWED', 'signer_urls may only name signers in the configured registry');
      return h;
    });
    if (new Set(handles).size < pkp.minSigners) throw new ApiError('TOO_FEW_PARTICIPANTS', `signer_urls must name at least ${pkp.minSigners} distinct signers`);
    out.signers = [...new Set(handles)];
  }
  return out;
}

/**
 * The items of a POST /v1/sign/batch body `{"items": [...]}`, at most `maxItems` of them; each still
 * to be parsed on its own ({@link parseBatchItem}): a bad item fails alone, not the batch.
 */
export function parseBatchRequest(body: unknown, maxItems: number): unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('INVALID_REQUEST', 'body must be a JSON object');
  for (const k of Object.keys(body)) if (k !== 'items') throw new ApiError('UNKNOWN_FIELD', `unknown field "${k.slice(0, 64)}"`);
  const items = (body as { items?: unknown }).items;
  if (!Array.isArray(items) || items.length === 0) throw new ApiError('INVALID_REQUEST', 'items must be a non-empty array');
  if (items.length > maxItems) throw new ApiError('BATCH_TOO_LARGE', `a batch carries at most ${maxItems} items, this one ${items.length}`);
  return items;
}

/** An item of a batch as parsed: its key and message. */
export interface ParsedBatchItem {
  key: KnownKey;
  message: Uint8Array;
}

/**
 * One item of a batch, `{"msg_b64", "key_id"?}`: its key (`defaultKeyId` when it names none) and
 * message, or the ApiError of this item. A message is at most what the key's signers accept (and
 * `maxMessageBytes`, the configured limit).
 */
export function parseBatchItem(item: unknown, defaultKeyId: string, registry: Pick<SignerRegistry, 'signingKey' | 'maxMessageBytes'>, maxMessageBytes: number): ParsedBatchItem | ApiError {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return new ApiError('INVALID_REQUEST', 'an item must be a JSON object');
  const o = item as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'msg_b64' && k !== 'key_id') return new ApiError('UNKNOWN_FIELD', `unknown field "${k.slice(0, 64)}"`);
  if (typeof o.msg_b64 !== 'string') return new ApiError('INVALID_REQUEST', 'msg_b64 must be a string');
  const message = decodeBase64Any(o.msg_b64);
  if (!message) return new ApiError('INVALID_BASE64', 'msg_b64 is not canonical base64 or base64url');
  let key: KnownKey;
  try {
    key = requestedKey(o.key_id, defaultKeyId, registry);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  const limit = registry.maxMessageBytes(key.keyId, maxMessageBytes);
  if (message.length > limit) return new ApiError('MESSAGE_TOO_LARGE', `message is ${message.length} bytes; the signers accept at most ${limit}`);
  return { key, message };
}

/** Protected header members a /v1/jws caller may not set: the service sets alg and kid; crit and b64 change how the JWS is read. */
export const RESERVED_JWS_HEADERS = ['alg', 'kid', 'crit', 'b64'] as const;

export interface ParsedJwsRequest {
  key: KnownKey;
  /** The protected header: `alg` EdDSA and `kid` the key id first, then the caller's members. */
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A /v1/jws body `{payload: {...}, header?: {...}, key_id?}`: a JSON object payload (as a signer's
 * `jws` policy requires), and extra protected header members that may not include
 * {@link RESERVED_JWS_HEADERS} (JWS_HEADER_NOT_ALLOWED).
 */
export function parseJwsRequest(body: unknown, defaultKeyId: string, registry: Pick<SignerRegistry, 'signingKey'>): ParsedJwsRequest {
  if (!isObject(body)) throw new ApiError('INVALID_REQUEST', 'body must be a JSON object');
  for (const k of Object.keys(body)) if (k !== 'payload' && k !== 'header' && k !== 'key_id') throw new ApiError('UNKNOWN_FIELD', `unknown field "${k.slice(0, 64)}"`);
  if (!isObject(body.payload)) throw new ApiError('INVALID_REQUEST', 'payload must be a JSON object');
  if (body.header !== undefined && !isObject(body.header)) throw new ApiError('INVALID_REQUEST', 'header must be a JSON object');
  const extra = (body.header ?? {}) as Record<string, unknown>;
  const reserved = RESERVED_JWS_HEADERS.filter((name) => Object.hasOwn(extra, name));
  if (reserved.length > 0) throw new ApiError('JWS_HEADER_NOT_ALLOWED', `the protected header may not set ${reserved.join(', ')}: alg and kid are the service's, crit and b64 are not supported`);
  const key = requestedKey(body.key_id, defaultKeyId, registry);
  return { key, header: { alg: 'EdDSA', kid: key.keyId, ...extra }, payload: body.payload };
}

/** The JWS signing input (RFC 7515 §5.1): BASE64URL(UTF8(header)) '.' BASE64URL(UTF8(payload)). */
export function jwsSigningInput(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
  return `${part(header)}.${part(payload)}`;
}
