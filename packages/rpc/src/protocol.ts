/**
 * Coordinator ↔ signer RPC messages (CBOR bodies): their strict shape validation, the round-2 codec
 * (the one place a signing package becomes wire data and back), and the fixed set of error codes a
 * signer answers with. Byte fields are CBOR byte strings; points and scalars are the RFC 9591
 * encodings.
 * @module
 */
import { Identifier, SignatureShare, SigningCommitments, SigningPackage, publicKeyPackageFromJson, publicKeyPackageToJson, type PublicKeyPackage } from '@hoarfrost/frost';
import { WireFormatError } from './errors.js';

export const RPC_PATHS = { round1: '/v1/round1', round2: '/v1/round2', round2Batch: '/v1/round2/batch', info: '/v1/info' } as const;

/**
 * Where a signer accepts the persistent channel (a WebSocket upgrade, frames.ts) that carries the
 * same RPCs, by the same paths, with the same tokens.
 */
export const CHANNEL_PATH = '/v1/channel';

/** Key ids name a key set on the signer (`default`, `mint-2026`, ...). */
export const KEY_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A signer's key directory holds one subdirectory per key id with these two frost-rs JSON files:
 * what frostctl writes, the chart mounts and the signer reads.
 */
export const KEY_PACKAGE_FILE = 'key-package.json';
export const PUBLIC_KEY_PACKAGE_FILE = 'public-key-package.json';

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
  /**
   * The version of the key (its shares) the coordinator verifies the shares against. A signer
   * holding another version (a refresh activated since the coordinator last looked) refuses with
   * KEY_VERSION_CHANGED before claiming anything, so a coordinator with a stale view re-reads the
   * signer instead of convicting it. Optional: older coordinators leave it out.
   */
  key_version?: number;
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
/**
 * Several round-2 requests in one RPC (one token, one body): what a coordinator sends a signer when
 * requests for it pile up, or for a batch of messages. Each request stands alone; the answer holds one
 * outcome per request, in order.
 */
export interface Round2BatchRequest {
  requests: Round2Request[];
}
/** The refusal of one request of a batch: a documented signer error code and its message. */
export interface Round2Refusal {
  error: { code: string; message: string };
}
export type Round2Outcome = Round2Response | Round2Refusal;
export interface Round2BatchResponse {
  results: Round2Outcome[];
}
export interface InfoRequest {
  key_id?: string;
}
/**
 * The life of a key on a signer: `pending` (made by a key generation, waiting for its activation
 * signature: signs nothing), `active` (signs), `retired` (signs nothing; its public key stays published).
 */
export const KEY_STATES = ['pending', 'active', 'retired'] as const;
export type KeyStateWire = (typeof KEY_STATES)[number];

/** The largest public key package an info answer may carry (frost-rs JSON, about 140 bytes per participant). */
export const MAX_PUBLIC_KEY_PACKAGE_BYTES = 1 << 20;

export interface KeyInfoWire {
  key_id: string;
  /**
   * This signer's participant identifier for this key (identifiers may differ per key). Optional:
   * older signers leave it out, and it is then the response's `identifier`.
   */
  identifier?: Uint8Array;
  verifying_share: Uint8Array;
  verifying_key: Uint8Array;
  min_signers: number;
  /** Absent (older signers): `active`. */
  state?: KeyStateWire;
  /** Increases with each refresh (same group key, new shares); absent: 1. */
  version?: number;
  /**
   * When the key was made or imported, in whole seconds since the epoch, when the signer knows
   * (seconds: the RPC's CBOR carries integers of up to 32 bits).
   */
  created_at?: number;
  /**
   * The whole public key package in its canonical encoding ({@link encodePublicKeyPackage}): equal
   * bytes, same package. Optional: older signers leave it out.
   */
  public_key_package?: Uint8Array;
  /**
   * A version made by key generation, once active: its session digest and the Ed25519 signature
   * that activated it (public). The coordinator re-sends them to a holder still pending, which
   * verifies the signature itself before it activates.
   */
  activation?: { session: Uint8Array; signature: Uint8Array };
}
export interface InfoResponse {
  /**
   * The signer's identifier for the first key listed (what older coordinators read); required when
   * any key is listed, absent when the signer holds none (a sealed store waiting for key generation).
   */
  identifier?: Uint8Array;
  keys: KeyInfoWire[];
  /**
   * The largest message this signer accepts to sign (its policy limit, within its body limit). The
   * coordinator refuses larger messages itself, before any round (optional: older signers omit it).
   */
  max_message_bytes?: number;
  /**
   * Random per signer process start: a change tells the coordinator the signer restarted, so its
   * preprocessed commitments are gone (optional: older signers omit it).
   */
  instance_id?: Uint8Array;
  /** The largest request body the signer accepts (its body limit): a batch must fit in it. */
  max_request_bytes?: number;
  /** The most round-2 requests one batch may carry; absent: the signer takes no batches. */
  max_round2_batch?: number;
  /** The most commitments one round-1 request may ask for. */
  max_commitment_batch?: number;
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string, required: readonly string[], optional: readonly string[] = []): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new WireFormatError('INVALID_REQUEST', `${what} must be a map`);
  }
  const o = v as Obj;
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) throw new WireFormatError('INVALID_REQUEST', `${what}: unknown field "${k.slice(0, 64)}"`);
  }
  for (const k of required) if (!(k in o)) throw new WireFormatError('INVALID_REQUEST', `${what}: missing field "${k}"`);
  return o;
}

/** A CBOR byte string of exactly `length` bytes (any length when omitted). */
function bytes(v: unknown, what: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new WireFormatError('INVALID_REQUEST', `${what} must be a byte string`);
  if (length !== undefined && v.length !== length) throw new WireFormatError('INVALID_REQUEST', `${what} must be ${length} bytes`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new WireFormatError('INVALID_REQUEST', `${what} must be an integer between ${min} and ${max}`);
  }
  return v;
}

function keyId(v: unknown): string {
  if (typeof v !== 'string' || !KEY_ID_RE.test(v)) throw new WireFormatError('INVALID_REQUEST', 'key_id must match ' + KEY_ID_RE.source);
  return v;
}

function list(v: unknown, what: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v) || v.length < min || v.length > max) {
    throw new WireFormatError('INVALID_REQUEST', `${what} must be an array of ${min}..${max} entries`);
  }
  return v;
}

export function parseRound1Request(v: unknown, maxCount: number): Round1Request {
  const o = obj(v, 'round1 request', ['key_id', 'count']);
  return { key_id: keyId(o.key_id), count: int(o.count, 'count', 1, maxCount) };
}

/** The largest round-1 batch either side accepts (the coordinator's and the signer's configuration bounds). */
export const MAX_ROUND1_BATCH = 1000;

/**
 * A round-1 answer with 1..`maxCount` commitments: the client passes the count it asked for, so a
 * signer cannot make it build a longer list.
 */
export function parseRound1Response(v: unknown, maxCount: number = MAX_ROUND1_BATCH): Round1Response {
  const o = obj(v, 'round1 response', ['identifier', 'commitments', 'ttl_ms']);
  return {
    identifier: bytes(o.identifier, 'identifier', 32),
    commitments: list(o.commitments, 'commitments', 1, maxCount).map((c, i) => {
      const e = obj(c, `commitments[${i}]`, ['hiding', 'binding']);
      return { hiding: bytes(e.hiding, 'hiding', 32), binding: bytes(e.binding, 'binding', 32) };
    }),
    ttl_ms: int(o.ttl_ms, 'ttl_ms', 0, 2 ** 31),
  };
}

export function parseRound2Request(v: unknown, maxParticipants = 255): Round2Request {
  const o = obj(v, 'round2 request', ['key_id', 'message', 'commitments'], ['key_version']);
  const req: Round2Request = {
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
  if (o.key_version !== undefined) req.key_version = int(o.key_version, 'key_version', 1, 2 ** 31);
  return req;
}

/** The largest round-2 batch either side accepts (the signer's configuration bound). */
export const MAX_ROUND2_BATCH = 1000;

export function parseRound2BatchRequest(v: unknown, maxItems: number, maxParticipants = 255): Round2BatchRequest {
  const o = obj(v, 'round2 batch request', ['requests']);
  return { requests: list(o.requests, 'requests', 1, maxItems).map((r) => parseRound2Request(r, maxParticipants)) };
}

/** A batch answer with exactly `count` outcomes (the number of requests sent): each a response or a refusal. */
export function parseRound2BatchResponse(v: unknown, count: number): Round2BatchResponse {
  const o = obj(v, 'round2 batch response', ['results']);
  return {
    results: list(o.results, 'results', count, count).map((r, i) => {
      if (typeof r === 'object' && r !== null && 'error' in r) {
        const e = obj(obj(r, `results[${i}]`, ['error']).error, `results[${i}].error`, ['code', 'message']);
        if (typeof e.code !== 'string' || e.code.length > 64 || typeof e.message !== 'string' || e.message.length > 4096) {
          throw new WireFormatError('INVALID_REQUEST', `results[${i}].error must hold a code of at most 64 and a message of at most 4096 characters`);
        }
        return { error: { code: e.code, message: e.message } };
      }
      return parseRound2Response(r);
    }),
  };
}

/** Is this outcome of a batch a refusal? */
export function isRound2Refusal(r: Round2Outcome): r is Round2Refusal {
  return 'error' in r;
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
  const o = obj(v, 'info response', ['keys'], ['identifier', 'max_message_bytes', 'instance_id', 'max_request_bytes', 'max_round2_batch', 'max_commitment_batch']);
  const r: InfoResponse = {
    keys: list(o.keys, 'keys', 0, 1000).map((k, i) => {
      const what = `keys[${i}]`;
      const e = obj(k, what, ['key_id', 'verifying_share', 'verifying_key', 'min_signers'], ['identifier', 'state', 'version', 'created_at', 'public_key_package', 'activation']);
      const key: KeyInfoWire = {
        key_id: keyId(e.key_id),
        verifying_share: bytes(e.verifying_share, 'verifying_share', 32),
        verifying_key: bytes(e.verifying_key, 'verifying_key', 32),
        min_signers: int(e.min_signers, 'min_signers', 2, 65535),
      };
      if (e.identifier !== undefined) key.identifier = bytes(e.identifier, `${what}.identifier`, 32);
      if (e.state !== undefined) {
        if (!KEY_STATES.includes(e.state as KeyStateWire)) throw new WireFormatError('INVALID_REQUEST', `${what}.state must be one of ${KEY_STATES.join(', ')}`);
        key.state = e.state as KeyStateWire;
      }
      if (e.version !== undefined) key.version = int(e.version, `${what}.version`, 1, 2 ** 31);
      if (e.created_at !== undefined) key.created_at = int(e.created_at, `${what}.created_at`, 0, 2 ** 32 - 1);
      if (e.public_key_package !== undefined) {
        const pkp = bytes(e.public_key_package, `${what}.public_key_package`);
        if (pkp.length === 0 || pkp.length > MAX_PUBLIC_KEY_PACKAGE_BYTES) throw new WireFormatError('INVALID_REQUEST', `${what}.public_key_package must be 1..${MAX_PUBLIC_KEY_PACKAGE_BYTES} bytes`);
        key.public_key_package = pkp;
      }
      if (e.activation !== undefined) {
        const a = obj(e.activation, `${what}.activation`, ['session', 'signature']);
        key.activation = { session: bytes(a.session, `${what}.activation.session`, 32), signature: bytes(a.signature, `${what}.activation.signature`, 64) };
      }
      return key;
    }),
  };
  if (o.identifier !== undefined) r.identifier = bytes(o.identifier, 'identifier', 32);
  else if (r.keys.length > 0) throw new WireFormatError('INVALID_REQUEST', 'info response: missing field "identifier"');
  if (o.max_message_bytes !== undefined) r.max_message_bytes = int(o.max_message_bytes, 'max_message_bytes', 1, 2 ** 31);
  if (o.instance_id !== undefined) r.instance_id = bytes(o.instance_id, 'instance_id', 16);
  if (o.max_request_bytes !== undefined) r.max_request_bytes = int(o.max_request_bytes, 'max_request_bytes', 1, 2 ** 31);
  if (o.max_round2_batch !== undefined) r.max_round2_batch = int(o.max_round2_batch, 'max_round2_batch', 1, MAX_ROUND2_BATCH);
  if (o.max_commitment_batch !== undefined) r.max_commitment_batch = int(o.max_commitment_batch, 'max_commitment_batch', 1, MAX_ROUND1_BATCH);
  return r;
}

/**
 * The canonical encoding of a public key package on the wire: frost-rs JSON (the format of
 * `public-key-package.json`) in UTF-8, with no whitespace, its fields in frost-rs order and the
 * verifying shares in ascending identifier order. One package has exactly one encoding, so equal
 * bytes mean the same package.
 */
export function encodePublicKeyPackage(pkp: PublicKeyPackage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(publicKeyPackageToJson(pkp)));
}

/**
 * The public key package of a canonical encoding: decoded strictly (frost-rs JSON, valid points),
 * and refused unless re-encoding gives the same bytes (WireFormatError INVALID_REQUEST). It does not
 * check that the shares lie on one polynomial (`assertConsistent`: costly, for the caller to run once).
 */
export function decodePublicKeyPackage(encoded: Uint8Array): PublicKeyPackage {
  let pkp: PublicKeyPackage;
  try {
    pkp = publicKeyPackageFromJson(new TextDecoder('utf-8', { fatal: true }).decode(encoded));
  } catch (e) {
    throw new WireFormatError('INVALID_REQUEST', `public_key_package: ${(e as Error).message}`);
  }
  if (Buffer.compare(encodePublicKeyPackage(pkp), encoded) !== 0) throw new WireFormatError('INVALID_REQUEST', 'public_key_package is not in its canonical encoding');
  return pkp;
}

/**
 * The round-2 request for `pkg`: every participant's identifier and commitments, and the message.
 * The coordinator's only way of putting a signing package on the wire.
 */
export function encodeRound2Request(keyId: string, pkg: SigningPackage, keyVersion?: number): Round2Request {
  const commitments = [];
  for (const { identifier, commitments: c } of pkg.signingCommitments.values()) {
    commitments.push({ identifier: identifier.toBytes(), hiding: c.hidingBytes, binding: c.bindingBytes });
  }
  const req: Round2Request = { key_id: keyId, message: pkg.message, commitments };
  if (keyVersion !== undefined) req.key_version = keyVersion;
  return req;
}

/**
 * The commitment a round-2 request lists for `identifier`, read from the raw request so that a signer
 * can claim the matching nonce before any point work; undefined unless listed exactly once.
 */
export function listedCommitment(req: Round2Request, identifier: Identifier): CommitmentWire | undefined {
  const mine = identifier.toBytes();
  const found = req.commitments.filter((c) => Buffer.compare(c.identifier, mine) === 0);
  return found.length === 1 ? found[0] : undefined;
}

/**
 * The signing package of a round-2 request (RFC 9591 §5.2). Identifiers are decoded strictly and
 * duplicates refused (SigningPackage); every commitment is validated as DeserializeElement requires
 * (FrostError INVALID_POINT) except those `trusted`: the signer's own (it matched them to a nonce it
 * issued), or `'all'` when a worker thread validated the same request already.
 */
export function decodeRound2Request(req: Round2Request, trusted: Identifier | 'all'): SigningPackage {
  const entries = req.commitments.map((c) => {
    const identifier = Identifier.fromBytes(c.identifier);
    const skip = trusted === 'all' || identifier.equals(trusted);
    const commitments = skip ? SigningCommitments.fromTrustedBytes(c.hiding, c.binding) : SigningCommitments.fromBytes(c.hiding, c.binding);
    return { identifier, commitments };
  });
  return new SigningPackage(entries, req.message);
}

/** The round-2 response carrying `share` of participant `identifier`. */
export function encodeRound2Response(identifier: Identifier, share: SignatureShare): Round2Response {
  const r: Round2Response = { identifier: identifier.toBytes(), share: share.toBytes() };
  if (share.groupCommitment) r.group_commitment = share.groupCommitment;
  return r;
}

/** The signature share of a round-2 response (FrostError INVALID_SCALAR when it is not canonical). */
export function decodeRound2Response(r: Round2Response): SignatureShare {
  return SignatureShare.fromBytes(r.share, r.group_commitment);
}

/**
 * The error codes a signer answers with, each with its kind: the whole documented set. A client maps
 * any other code to one value (`SIGNER_ERROR`).
 *
 * - `auth`: the caller was not authenticated or not allowed (mTLS identity, RPC token).
 * - `request`: the request is not a well-formed RPC (body, size, media type, path, shape).
 * - `package`: the signing package cannot be signed (participants, commitments, points).
 * - `stale`: the commitment is unknown to the signer or expired (it restarted, or the entry aged out);
 *   a coordinator drops what it preprocessed and asks again.
 * - `policy`: the signer's validation policy refused the message: the signer doing its job.
 * - `unavailable`: the signer cannot take requests now (shutting down, replay cache full).
 * - `internal`: the signer failed.
 */
export const SIGNER_ERROR_CODES = {
  CLIENT_CERT_REQUIRED: 'auth',
  CLIENT_CERT_UNTRUSTED: 'auth',
  CLIENT_IDENTITY_NOT_ALLOWED: 'auth',
  TOKEN_MISSING: 'auth',
  TOKEN_MALFORMED: 'auth',
  TOKEN_INVALID: 'auth',
  TOKEN_ALG_NOT_ALLOWED: 'auth',
  TOKEN_WRONG_TYPE: 'auth',
  TOKEN_UNKNOWN_KEY: 'auth',
  TOKEN_BAD_SIGNATURE: 'auth',
  TOKEN_CLAIM_INVALID: 'auth',
  TOKEN_WRONG_ISSUER: 'auth',
  TOKEN_WRONG_AUDIENCE: 'auth',
  TOKEN_EXPIRED: 'auth',
  TOKEN_LIFETIME_TOO_LONG: 'auth',
  TOKEN_PATH_MISMATCH: 'auth',
  TOKEN_BODY_MISMATCH: 'auth',
  TOKEN_REPLAYED: 'auth',
  MALFORMED_CBOR: 'request',
  INVALID_REQUEST: 'request',
  PAYLOAD_TOO_LARGE: 'request',
  REQUEST_TIMEOUT: 'request',
  UNSUPPORTED_MEDIA_TYPE: 'request',
  METHOD_NOT_ALLOWED: 'request',
  NOT_FOUND: 'request',
  UNKNOWN_KEY: 'package',
  NOT_A_PARTICIPANT: 'package',
  UNKNOWN_PARTICIPANT: 'package',
  INVALID_IDENTIFIER: 'package',
  INVALID_POINT: 'package',
  INVALID_SIGNING_PACKAGE: 'package',
  IDENTITY_COMMITMENT: 'package',
  COMMITMENT_ALREADY_USED: 'package',
  COMMITMENT_KEY_MISMATCH: 'package',
  KEY_NOT_ACTIVE: 'package',
  KEY_RETIRED: 'package',
  KEY_EXISTS: 'package',
  KEY_NOT_RETIRED: 'package',
  DKG_REFUSED: 'request',
  DKG_SESSION_UNKNOWN: 'stale',
  DKG_BUSY: 'unavailable',
  DKG_UNAVAILABLE: 'unavailable',
  UNKNOWN_COMMITMENT: 'stale',
  COMMITMENT_EXPIRED: 'stale',
  KEY_VERSION_CHANGED: 'stale',
  POLICY_MESSAGE_TOO_LARGE: 'policy',
  POLICY_EMPTY_MESSAGE: 'policy',
  POLICY_NOT_JWS: 'policy',
  POLICY_JWS_HEADER: 'policy',
  POLICY_JWS_ALG: 'policy',
  POLICY_JWS_PAYLOAD: 'policy',
  POLICY_JWS_MISSING_CLAIM: 'policy',
  SHUTTING_DOWN: 'unavailable',
  REPLAY_CACHE_FULL: 'unavailable',
  AUDIT_UNAVAILABLE: 'unavailable',
  INTERNAL: 'internal',
} as const;

export type SignerErrorCode = keyof typeof SIGNER_ERROR_CODES;
export type SignerErrorKind = (typeof SIGNER_ERROR_CODES)[SignerErrorCode];

/** Is `code` one of the documented signer error codes? */
export function isSignerErrorCode(code: unknown): code is SignerErrorCode {
  return typeof code === 'string' && Object.hasOwn(SIGNER_ERROR_CODES, code);
}

/** The body of every signer error response (JSON, like the coordinator's public errors). */
export interface SignerErrorBody {
  error: { code: SignerErrorCode; message: string };
}
