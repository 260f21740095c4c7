/**
 * frostd's wire format (frost-client's `api` module): the endpoints, their arguments and how a strict
 * deserializer reads them. Shapes that do not deserialize (a missing field, a wrong type, bad hex, a
 * malformed UUID, a count outside u8) are UNPROCESSABLE_JSON (422, as frostd's JSON extractor answers);
 * values that deserialize but make no sense (a key that is not 32 bytes, message_count 0) are the
 * handler's INVALID_ARGUMENT. Unknown fields are ignored, as serde does by default.
 * @module
 */
import { RelayError } from './errors.js';
import type { PublicKeyHex } from './store.js';

/** The endpoints and whether each needs a bearer token and takes arguments (a JSON object). */
export const ENDPOINTS = {
  '/challenge': { auth: false, args: false },
  '/login': { auth: false, args: true },
  '/logout': { auth: true, args: false },
  '/create_new_session': { auth: true, args: true },
  '/list_sessions': { auth: true, args: false },
  '/get_session_info': { auth: true, args: true },
  '/send': { auth: true, args: true },
  '/receive': { auth: true, args: true },
  '/close_session': { auth: true, args: true },
} as const;

export type Endpoint = keyof typeof ENDPOINTS;
export const isEndpoint = (path: string): path is Endpoint => Object.hasOwn(ENDPOINTS, path);

/** Where push connections upgrade (GET with `Upgrade: websocket`). */
export const PUSH_PATH = '/subscribe';

type Json = Record<string, unknown>;

const bad = (what: string) => new RelayError('UNPROCESSABLE_JSON', what);

/** The parsed JSON body as an object of arguments. */
export function argsObject(body: unknown): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the arguments must be a JSON object');
  return body as Json;
}

function field(o: Json, name: string): unknown {
  if (!Object.hasOwn(o, name)) throw bad(`missing field \`${name}\``);
  return o[name];
}

const HYPHENATED = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SIMPLE = /^[0-9a-fA-F]{32}$/;

/**
 * A UUID in the forms the uuid crate parses (hyphenated, simple, braced, URN), as lowercase hyphenated
 * text; undefined when it is none of them.
 */
export function normalizeUuid(text: string): string | undefined {
  let t = text;
  if (t.startsWith('urn:uuid:')) t = t.slice(9);
  else if (t.startsWith('{') && t.endsWith('}')) t = t.slice(1, -1);
  if (!HYPHENATED.test(t) && !(t === text && SIMPLE.test(t))) return undefined;
  const h = t.replace(/-/g, '').toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function uuidField(o: Json, name: string): string {
  const v = field(o, name);
  const id = typeof v === 'string' ? normalizeUuid(v) : undefined;
  if (!id) throw bad(`\`${name}\` is not a UUID`);
  return id;
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Hex text (either case, even length), as lowercase hex. */
export function hexValue(v: unknown, name: string): string {
  if (typeof v !== 'string' || !HEX_RE.test(v)) throw bad(`\`${name}\` is not hex`);
  return v.toLowerCase();
}

export const hexField = (o: Json, name: string): string => hexValue(field(o, name), name);

/** A list of public keys: each must be hex here; being 32 bytes is the handler's check. */
export function hexListField(o: Json, name: string, maxItems: number): string[] {
  const v = field(o, name);
  if (!Array.isArray(v)) throw bad(`\`${name}\` is not a list`);
  // Larger than any body allows anyway; bounds the work before the handler's own limit.
  if (v.length > maxItems) throw new RelayError('TOO_MANY_MEMBERS', `\`${name}\` lists more than ${maxItems} keys`);
  return v.map((x, i) => hexValue(x, `${name}[${i}]`));
}

export function boolField(o: Json, name: string): boolean {
  const v = field(o, name);
  if (typeof v !== 'boolean') throw bad(`\`${name}\` is not a boolean`);
  return v;
}

/** An unsigned integer up to `max` (u8: 255). */
export function uintField(o: Json, name: string, max: number): number {
  const v = field(o, name);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw bad(`\`${name}\` is not an integer from 0 to ${max}`);
  return v;
}

/** An optional unsigned integer (absent or null: undefined). */
export function optionalUintField(o: Json, name: string, max: number): number | undefined {
  if (!Object.hasOwn(o, name) || o[name] === null) return undefined;
  return uintField(o, name, max);
}

/** A public key of a member or user: 32 bytes. */
export function assertKey(hex: string, name: string): PublicKeyHex {
  if (hex.length !== 64) throw new RelayError('INVALID_ARGUMENT', name);
  return hex;
}

/** Arguments of each endpoint, parsed. */
export interface LoginArgs {
  challenge: string;
  pubkey: string;
  signature: string;
}
export interface CreateSessionArgs {
  pubkeys: string[];
  message_count: number;
}
export interface SessionArgs {
  session_id: string;
}
export interface SendArgs {
  session_id: string;
  recipients: string[];
  msg: string;
}
export interface ReceiveArgs {
  session_id: string;
  as_coordinator: boolean;
  /** This relay's extension: wait up to this long for a message when the queue is empty. */
  wait_ms: number | undefined;
}

export const parseLogin = (o: Json): LoginArgs => ({ challenge: uuidField(o, 'challenge'), pubkey: hexField(o, 'pubkey'), signature: hexField(o, 'signature') });
export const parseCreateSession = (o: Json, maxMembers: number): CreateSessionArgs => ({ pubkeys: hexListField(o, 'pubkeys', maxMembers), message_count: uintField(o, 'message_count', 255) });
export const parseSession = (o: Json): SessionArgs => ({ session_id: uuidField(o, 'session_id') });
export const parseSend = (o: Json, maxMembers: number): SendArgs => ({ session_id: uuidField(o, 'session_id'), recipients: hexListField(o, 'recipients', maxMembers), msg: hexField(o, 'msg') });
export const parseReceive = (o: Json): ReceiveArgs => ({
  session_id: uuidField(o, 'session_id'),
  as_coordinator: boolField(o, 'as_coordinator'),
  wait_ms: optionalUintField(o, 'wait_ms', 2 ** 31 - 1),
});
