/**
 * Validation of the public request bodies (/sign and /v1/sign/batch). Strict: unknown fields, wrong
 * types and anything that is not canonical base64/base64url are refused with a stable code.
 * @module
 */
import { Identifier, MAX_NUMERIC_IDENTIFIER, type PublicKeyPackage } from '@hoarfrost/frost';
import { ApiError, type ParticipantId } from './errors.js';
import type { SignerRegistry } from './registry.js';
import type { SignerHandle } from './signer-handle.js';

export interface ParsedSignRequest {
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

export function parseSignRequest(body: unknown, pkp: PublicKeyPackage, registry: Pick<SignerRegistry, 'byUrl'>): ParsedSignRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('INVALID_REQUEST', 'body must be a JSON object');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'msg_b64' && k !== 'participants' && k !== 'signer_urls') throw new ApiError('UNKNOWN_FIELD', `unknown field "${k}"`);
  }
  if (typeof o.msg_b64 !== 'string') throw new ApiError('INVALID_REQUEST', 'msg_b64 must be a string');
  const message = decodeBase64Any(o.msg_b64);
  if (!message) throw new ApiError('INVALID_BASE64', 'msg_b64 is not canonical base64 or base64url');
  const out: ParsedSignRequest = { message };
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

/**
 * One item of a batch, `{"msg_b64", "key_id"?}`: its message, or the ApiError of this item. `keyId`
 * is the key this coordinator signs with (an item naming another gets UNKNOWN_KEY); `maxMessageBytes`
 * the largest message the signers accept.
 */
export function parseBatchItem(item: unknown, keyId: string, maxMessageBytes: number): Uint8Array | ApiError {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return new ApiError('INVALID_REQUEST', 'an item must be a JSON object');
  const o = item as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'msg_b64' && k !== 'key_id') return new ApiError('UNKNOWN_FIELD', `unknown field "${k.slice(0, 64)}"`);
  if (o.key_id !== undefined && typeof o.key_id !== 'string') return new ApiError('INVALID_REQUEST', 'key_id must be a string');
  if (o.key_id !== undefined && o.key_id !== keyId) return new ApiError('UNKNOWN_KEY', 'no such key here');
  if (typeof o.msg_b64 !== 'string') return new ApiError('INVALID_REQUEST', 'msg_b64 must be a string');
  const message = decodeBase64Any(o.msg_b64);
  if (!message) return new ApiError('INVALID_BASE64', 'msg_b64 is not canonical base64 or base64url');
  if (message.length > maxMessageBytes) return new ApiError('MESSAGE_TOO_LARGE', `message is ${message.length} bytes; the signers accept at most ${maxMessageBytes}`);
  return message;
}
