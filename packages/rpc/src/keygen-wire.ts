/**
 * The wire of dealerless key generation (coordinator ↔ each signer, the coordinator only relaying):
 * the RPC paths, the session parameters with their canonical encoding and the session digest that
 * binds every message to one run, the signed-message envelope `{body, cert, sig}` in which a signer
 * sends everything it emits, the inner messages (round1, echo, round2, confirm), the step requests,
 * and the step answers (`{ok}` or `{abort}`). Every parser is strict: exact field sets, exact byte
 * lengths, bounded lists; a violation is WireFormatError INVALID_REQUEST.
 *
 * A signed message is authenticated by its sender's TLS certificate (deployment CA, SAN
 * `DNS:<signer id>`); the signature covers `"hoarfrost-dkg-v1/" ‖ type ‖ 0x00 ‖ body`
 * ({@link signedData}), so a body of one type never passes as another.
 * @module
 */
import { createHash } from 'node:crypto';
import { decodeCbor, encodeCbor } from './cbor.js';
import { WireFormatError } from './errors.js';
import { KEY_ID_RE } from './protocol.js';

/** The RPCs of key generation and key retirement, by name. */
export const KEYGEN_PATHS = {
  keygenBegin: '/v1/keygen/begin',
  keygenEcho: '/v1/keygen/echo',
  keygenDeal: '/v1/keygen/deal',
  keygenFinish: '/v1/keygen/finish',
  keygenConfirm: '/v1/keygen/confirm',
  keygenSign: '/v1/keygen/sign',
  keygenActivate: '/v1/keygen/activate',
  keygenAbort: '/v1/keygen/abort',
  keyRetire: '/v1/keys/retire',
  keyRemove: '/v1/keys/remove',
} as const;
export type KeygenRpc = keyof typeof KEYGEN_PATHS;

/** Signer ids as the coordinator's registry and the certificates' DNS SANs spell them. */
export const SIGNER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;

/** Largest issued_at accepted by the parser (seconds; year 2514): a plain bound, the clock check is the signer's. */
const MAX_ISSUED_AT = 2 ** 34;

/** Most participants of one key generation (bounds every list a step carries). */
export const MAX_KEYGEN_PARTICIPANTS = 64;

/** Largest field a signed message carries (a certificate, a package, a ciphertext). */
export const MAX_KEYGEN_FIELD_BYTES = 64 * 1024;

const DOMAIN = 'hoarfrost-dkg-v1/';
const utf8 = new TextEncoder();

// --- session parameters ---------------------------------------------------------------------------

export type KeygenKind = 'create' | 'refresh';

export interface KeygenParticipantWire {
  /** The participant's FROST identifier (32-byte scalar encoding). */
  identifier: Uint8Array;
  /** Its signer id (the DNS SAN of its certificate). */
  signer: string;
}

/** What a run is: part of every signed message through the session digest. */
export interface KeygenParams {
  /** 32 random bytes chosen by the coordinator. */
  session_id: Uint8Array;
  kind: KeygenKind;
  key_id: string;
  min_signers: number;
  /** Sorted by identifier (ascending as little-endian scalars), each identifier and signer once. */
  participants: KeygenParticipantWire[];
  /** The group verifying key a refresh keeps (refresh only). */
  group_key?: Uint8Array;
  /**
   * When the coordinator made these parameters (seconds since the epoch). A signer begins a session
   * only for parameters issued within its window of its own clock, and never twice for one digest
   * within it: parameters cannot be replayed to make a signer sign a second round-1 message.
   */
  issued_at: number;
}

/** The begin request is the parameters themselves. */
export type BeginRequest = KeygenParams;

/** Compares two 32-byte identifier encodings as little-endian numbers. */
export function compareIdentifierBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * The canonical CBOR of the parameters: map keys in the deterministic order of RFC 8949 §4.2.1
 * (shorter encoded keys first, then bytewise), no optional field that is absent. Every signer
 * computes the same bytes from the same parameters.
 */
export function encodeKeygenParams(p: KeygenParams): Uint8Array {
  const ordered: Record<string, unknown> = { kind: p.kind, key_id: p.key_id };
  if (p.group_key !== undefined) ordered.group_key = p.group_key;
  ordered.issued_at = p.issued_at;
  ordered.session_id = p.session_id;
  ordered.min_signers = p.min_signers;
  ordered.participants = p.participants.map((e) => ({ signer: e.signer, identifier: e.identifier }));
  return encodeCbor(ordered);
}

/** session_digest = SHA-256("hoarfrost-dkg-v1/params" ‖ canonical CBOR(params)). */
export function sessionDigest(p: KeygenParams): Uint8Array {
  return sha256(utf8.encode(DOMAIN + 'params'), encodeKeygenParams(p));
}

/**
 * Strict parse of the parameters: exact fields, 2 ≤ min_signers ≤ n ≤ {@link MAX_KEYGEN_PARTICIPANTS},
 * participants sorted by identifier with no identifier or signer twice, group_key present exactly for
 * a refresh. (Whether an identifier is a valid scalar is the protocol library's check.)
 */
export function parseKeygenParams(v: unknown): KeygenParams {
  const o = obj(v, 'keygen params', ['session_id', 'kind', 'key_id', 'min_signers', 'participants', 'issued_at'], ['group_key']);
  if (o.kind !== 'create' && o.kind !== 'refresh') throw invalid('kind must be "create" or "refresh"');
  const participants = list(o.participants, 'participants', 2, MAX_KEYGEN_PARTICIPANTS).map((e, i) => {
    const p = obj(e, `participants[${i}]`, ['identifier', 'signer']);
    return { identifier: bytes(p.identifier, `participants[${i}].identifier`, 32), signer: signerId(p.signer, `participants[${i}].signer`) };
  });
  for (let i = 1; i < participants.length; i++) {
    if (compareIdentifierBytes(participants[i - 1]!.identifier, participants[i]!.identifier) >= 0) {
      throw invalid('participants must be sorted by identifier, each identifier once');
    }
  }
  if (new Set(participants.map((p) => p.signer)).size !== participants.length) throw invalid('participants must name each signer once');
  const p: KeygenParams = {
    session_id: bytes(o.session_id, 'session_id', 32),
    kind: o.kind,
    key_id: keyId(o.key_id),
    min_signers: int(o.min_signers, 'min_signers', 2, participants.length),
    participants,
    issued_at: int(o.issued_at, 'issued_at', 0, MAX_ISSUED_AT),
  };
  if (o.kind === 'refresh') {
    if (o.group_key === undefined) throw invalid('a refresh must name its group_key');
    p.group_key = bytes(o.group_key, 'group_key', 32);
  } else if (o.group_key !== undefined) throw invalid('group_key belongs to a refresh only');
  return p;
}

// --- signed messages --------------------------------------------------------------------------------

/** What a signer sends for every message it emits. */
export interface SignedMessage {
  /** CBOR of the inner message. */
  body: Uint8Array;
  /** The sender's leaf certificate (DER). */
  cert: Uint8Array;
  /** Signature with the certificate's key over {@link signedData}(type, body). */
  sig: Uint8Array;
}

export type KeygenMessageType = 'round1' | 'echo' | 'round2' | 'confirm';

/** The bytes a signature covers: "hoarfrost-dkg-v1/" ‖ type ‖ 0x00 ‖ body. */
export function signedData(type: KeygenMessageType, body: Uint8Array): Uint8Array {
  const prefix = utf8.encode(DOMAIN + type);
  const out = new Uint8Array(prefix.length + 1 + body.length);
  out.set(prefix);
  out.set(body, prefix.length + 1);
  return out;
}

export function parseSignedMessage(v: unknown, what = 'signed message'): SignedMessage {
  const o = obj(v, what, ['body', 'cert', 'sig']);
  return {
    body: boundedBytes(o.body, `${what}.body`),
    cert: boundedBytes(o.cert, `${what}.cert`),
    sig: boundedBytes(o.sig, `${what}.sig`, 1024),
  };
}

/** Fields every inner message has. */
interface Inner {
  session: Uint8Array;
  sender: Uint8Array;
}

export interface Round1Message extends Inner {
  type: 'round1';
  /** The frost-rs JSON of the DKG round-1 package (commitments and proof of knowledge), UTF-8. */
  package: Uint8Array;
  /** The sender's X25519 HPKE public key for this session. */
  hpke_public_key: Uint8Array;
}

export interface EchoMessage extends Inner {
  type: 'echo';
  /** SHA-256 of the body of each participant's round-1 message, in identifier order. */
  digests: Uint8Array[];
}

export interface Round2Message extends Inner {
  type: 'round2';
  recipient: Uint8Array;
  /** HPKE encapsulated key. */
  enc: Uint8Array;
  /** HPKE ciphertext of the 32-byte share f_sender(recipient). */
  ciphertext: Uint8Array;
}

export interface ConfirmMessage extends Inner {
  type: 'confirm';
  /** SHA-256 of public_key_package. */
  pkp_digest: Uint8Array;
  /** The canonical encoding of the resulting public key package. */
  public_key_package: Uint8Array;
}

export type KeygenMessage = Round1Message | EchoMessage | Round2Message | ConfirmMessage;

/** The CBOR body of an inner message (fields in a fixed order: one encoding per message). */
export function encodeKeygenMessage(m: KeygenMessage): Uint8Array {
  switch (m.type) {
    case 'round1':
      return encodeCbor({ type: m.type, session: m.session, sender: m.sender, package: m.package, hpke_public_key: m.hpke_public_key });
    case 'echo':
      return encodeCbor({ type: m.type, session: m.session, sender: m.sender, digests: m.digests });
    case 'round2':
      return encodeCbor({ type: m.type, session: m.session, sender: m.sender, recipient: m.recipient, enc: m.enc, ciphertext: m.ciphertext });
    case 'confirm':
      return encodeCbor({ type: m.type, session: m.session, sender: m.sender, pkp_digest: m.pkp_digest, public_key_package: m.public_key_package });
  }
}

const MESSAGE_FIELDS: Record<KeygenMessageType, readonly string[]> = {
  round1: ['type', 'session', 'sender', 'package', 'hpke_public_key'],
  echo: ['type', 'session', 'sender', 'digests'],
  round2: ['type', 'session', 'sender', 'recipient', 'enc', 'ciphertext'],
  confirm: ['type', 'session', 'sender', 'pkp_digest', 'public_key_package'],
};

/**
 * The inner message of `type` from its CBOR body (strict CBOR, exact fields). Throws
 * WireFormatError (MALFORMED_CBOR or INVALID_REQUEST) otherwise.
 */
export function decodeKeygenMessage<T extends KeygenMessageType>(type: T, body: Uint8Array): Extract<KeygenMessage, { type: T }> {
  const o = obj(decodeCbor(body), `${type} message`, MESSAGE_FIELDS[type]);
  if (o.type !== type) throw invalid(`${type} message: type must be "${type}"`);
  const base = { session: bytes(o.session, 'session', 32), sender: bytes(o.sender, 'sender', 32) };
  let m: KeygenMessage;
  switch (type as KeygenMessageType) {
    case 'round1':
      m = { type: 'round1', ...base, package: boundedBytes(o.package, 'package'), hpke_public_key: bytes(o.hpke_public_key, 'hpke_public_key', 32) };
      break;
    case 'echo':
      m = { type: 'echo', ...base, digests: list(o.digests, 'digests', 2, MAX_KEYGEN_PARTICIPANTS).map((d, i) => bytes(d, `digests[${i}]`, 32)) };
      break;
    case 'round2':
      m = {
        type: 'round2',
        ...base,
        recipient: bytes(o.recipient, 'recipient', 32),
        enc: bytes(o.enc, 'enc', 32),
        ciphertext: boundedBytes(o.ciphertext, 'ciphertext', 1024),
      };
      break;
    case 'confirm':
      m = { type: 'confirm', ...base, pkp_digest: bytes(o.pkp_digest, 'pkp_digest', 32), public_key_package: boundedBytes(o.public_key_package, 'public_key_package') };
      break;
  }
  return m as Extract<KeygenMessage, { type: T }>;
}

// --- step requests ----------------------------------------------------------------------------------

/** Round-1 messages of every participant, in identifier order. */
export interface EchoRequest {
  session: Uint8Array;
  round1: SignedMessage[];
}
/** Echo messages of every participant, in identifier order. */
export interface DealRequest {
  session: Uint8Array;
  echoes: SignedMessage[];
}
/** The n − 1 round-2 messages addressed to this participant. */
export interface FinishRequest {
  session: Uint8Array;
  round2: SignedMessage[];
}
/** Confirm messages of every participant, in identifier order. */
export interface ConfirmRequest {
  session: Uint8Array;
  confirms: SignedMessage[];
}
export interface ActivationCommitmentWire {
  identifier: Uint8Array;
  hiding: Uint8Array;
  binding: Uint8Array;
}
/** The activation commitments of every participant. */
export interface SignRequest {
  session: Uint8Array;
  commitments: ActivationCommitmentWire[];
}
/**
 * Activates the pending key `key_id` made by `session`. The signer needs no live session for it: it
 * finds the pending key by its id and checks that session made it, so an activation interrupted by a
 * session's expiry or a restart can be re-sent.
 */
export interface ActivateRequest {
  session: Uint8Array;
  key_id: string;
  /** The Ed25519 signature (R ‖ z) of the activation message under the new group key. */
  signature: Uint8Array;
}
/**
 * Drops the session, and the pending key it stored unless this signer already gave its share of the
 * activation signature (then the key may be active elsewhere: it stays pending, unusable, until
 * activated or replaced by a later run for that key id).
 */
export interface AbortRequest {
  session: Uint8Array;
  key_id: string;
}
export interface RetireRequest {
  key_id: string;
}

function signedList(v: unknown, what: string, min: number, max: number): SignedMessage[] {
  return list(v, what, min, max).map((m, i) => parseSignedMessage(m, `${what}[${i}]`));
}

export function parseEchoRequest(v: unknown): EchoRequest {
  const o = obj(v, 'echo request', ['session', 'round1']);
  return { session: bytes(o.session, 'session', 32), round1: signedList(o.round1, 'round1', 0, MAX_KEYGEN_PARTICIPANTS) };
}
export function parseDealRequest(v: unknown): DealRequest {
  const o = obj(v, 'deal request', ['session', 'echoes']);
  return { session: bytes(o.session, 'session', 32), echoes: signedList(o.echoes, 'echoes', 0, MAX_KEYGEN_PARTICIPANTS) };
}
export function parseFinishRequest(v: unknown): FinishRequest {
  const o = obj(v, 'finish request', ['session', 'round2']);
  return { session: bytes(o.session, 'session', 32), round2: signedList(o.round2, 'round2', 0, MAX_KEYGEN_PARTICIPANTS) };
}
export function parseConfirmRequest(v: unknown): ConfirmRequest {
  const o = obj(v, 'confirm request', ['session', 'confirms']);
  return { session: bytes(o.session, 'session', 32), confirms: signedList(o.confirms, 'confirms', 0, MAX_KEYGEN_PARTICIPANTS) };
}
export function parseSignRequest(v: unknown): SignRequest {
  const o = obj(v, 'sign request', ['session', 'commitments']);
  return {
    session: bytes(o.session, 'session', 32),
    commitments: list(o.commitments, 'commitments', 0, MAX_KEYGEN_PARTICIPANTS).map((c, i) => parseCommitment(c, `commitments[${i}]`)),
  };
}
export function parseActivateRequest(v: unknown): ActivateRequest {
  const o = obj(v, 'activate request', ['session', 'key_id', 'signature']);
  return { session: bytes(o.session, 'session', 32), key_id: keyId(o.key_id), signature: bytes(o.signature, 'signature', 64) };
}
export function parseAbortRequest(v: unknown): AbortRequest {
  const o = obj(v, 'abort request', ['session', 'key_id']);
  return { session: bytes(o.session, 'session', 32), key_id: keyId(o.key_id) };
}
export function parseRetireRequest(v: unknown): RetireRequest {
  const o = obj(v, 'retire request', ['key_id']);
  return { key_id: keyId(o.key_id) };
}

function parseCommitment(v: unknown, what: string): ActivationCommitmentWire {
  const c = obj(v, what, ['identifier', 'hiding', 'binding']);
  return { identifier: bytes(c.identifier, `${what}.identifier`, 32), hiding: bytes(c.hiding, `${what}.hiding`, 32), binding: bytes(c.binding, `${what}.binding`, 32) };
}

// --- step answers -------------------------------------------------------------------------------------

/**
 * Why a participant dropped the session (an abort answer):
 * - `DKG_CULPRIT`: a participant sent something it signed and that fails the protocol (a bad proof of
 *   knowledge, a bad share, an unreadable package); `culprits` names it.
 * - `DKG_EQUIVOCATION`: the participants do not agree on the round-1 messages: an echo lists another
 *   digest for some participant than this one saw, or a participant signed two different messages for
 *   one slot. From echoes alone a participant cannot tell whether the message's sender signed two or
 *   the echo's signer lied, so it names nobody there (`culprits` empty; the message says which echo
 *   disagreed about whom); the coordinator, which relayed round 1 itself, names an echo that lies.
 * - `DKG_MISSING_MESSAGE`: the set delivered lacks a participant's message (the relay dropped it, or
 *   the participant never sent it): `culprits` names the participants missing.
 * - `DKG_RELAY_FAULT`: the relay delivered something no honest participant sent (altered, replayed
 *   from another session, misaddressed, this participant's own message changed, a step out of order).
 * - `DKG_CONFIRMATION_MISMATCH`: participants reached different public key packages.
 * - `DKG_ACTIVATION_FAILED`: the activation signature does not verify under the new key.
 * - `DKG_INTERNAL`: this participant failed (storage).
 */
export const KEYGEN_ABORT_CODES = [
  'DKG_CULPRIT',
  'DKG_EQUIVOCATION',
  'DKG_MISSING_MESSAGE',
  'DKG_RELAY_FAULT',
  'DKG_CONFIRMATION_MISMATCH',
  'DKG_ACTIVATION_FAILED',
  'DKG_INTERNAL',
] as const;
export type KeygenAbortCode = (typeof KEYGEN_ABORT_CODES)[number];

export interface KeygenAbort {
  code: KeygenAbortCode;
  message: string;
  /** Signer ids of the participants at fault. */
  culprits: string[];
  /** The relay (the coordinator) delivered something no honest participant sent. */
  relay_fault: boolean;
}

export type StepAnswer<T> = { ok: T } | { abort: KeygenAbort };

export interface BeginResult {
  round1: SignedMessage;
}
export interface EchoResult {
  echo: SignedMessage;
}
export interface DealResult {
  /** One per other participant, in identifier order of the recipients. */
  round2: SignedMessage[];
}
export interface FinishResult {
  confirm: SignedMessage;
  /** This participant's commitment for the activation signature (made with its new share). */
  commitment: ActivationCommitmentWire;
}
export interface SignResult {
  /** The signature share (32-byte scalar) of the activation message. */
  share: Uint8Array;
}
export type EmptyResult = Record<string, never>;

/** Is this answer an abort? */
export function isKeygenAbort<T>(a: StepAnswer<T>): a is { abort: KeygenAbort } {
  return 'abort' in a;
}

function parseAnswer<T>(v: unknown, what: string, ok: (v: unknown) => T): StepAnswer<T> {
  if (typeof v === 'object' && v !== null && 'abort' in v) {
    const a = obj(obj(v, what, ['abort']).abort, `${what}.abort`, ['code', 'message', 'culprits', 'relay_fault']);
    if (!KEYGEN_ABORT_CODES.includes(a.code as KeygenAbortCode)) throw invalid(`${what}.abort.code must be one of ${KEYGEN_ABORT_CODES.join(', ')}`);
    if (typeof a.message !== 'string' || a.message.length > 4096) throw invalid(`${what}.abort.message must be a string of at most 4096 characters`);
    if (typeof a.relay_fault !== 'boolean') throw invalid(`${what}.abort.relay_fault must be a boolean`);
    const culprits = list(a.culprits, `${what}.abort.culprits`, 0, MAX_KEYGEN_PARTICIPANTS).map((c, i) => signerId(c, `${what}.abort.culprits[${i}]`));
    return { abort: { code: a.code as KeygenAbortCode, message: a.message, culprits, relay_fault: a.relay_fault } };
  }
  return { ok: ok(obj(v, what, ['ok']).ok) };
}

const empty = (what: string) => (v: unknown): EmptyResult => (obj(v, what, []), {});

export function parseBeginAnswer(v: unknown): StepAnswer<BeginResult> {
  return parseAnswer(v, 'begin answer', (r) => ({ round1: parseSignedMessage(obj(r, 'begin result', ['round1']).round1, 'round1') }));
}
export function parseEchoAnswer(v: unknown): StepAnswer<EchoResult> {
  return parseAnswer(v, 'echo answer', (r) => ({ echo: parseSignedMessage(obj(r, 'echo result', ['echo']).echo, 'echo') }));
}
export function parseDealAnswer(v: unknown, count: number): StepAnswer<DealResult> {
  return parseAnswer(v, 'deal answer', (r) => ({ round2: signedList(obj(r, 'deal result', ['round2']).round2, 'round2', count, count) }));
}
export function parseFinishAnswer(v: unknown): StepAnswer<FinishResult> {
  return parseAnswer(v, 'finish answer', (r) => {
    const o = obj(r, 'finish result', ['confirm', 'commitment']);
    return { confirm: parseSignedMessage(o.confirm, 'confirm'), commitment: parseCommitment(o.commitment, 'commitment') };
  });
}
export function parseSignAnswer(v: unknown): StepAnswer<SignResult> {
  return parseAnswer(v, 'sign answer', (r) => ({ share: bytes(obj(r, 'sign result', ['share']).share, 'share', 32) }));
}
/** The answer of confirm, activate, abort and retire: `{ok: {}}` or an abort. */
export function parseEmptyAnswer(v: unknown, what = 'answer'): StepAnswer<EmptyResult> {
  return parseAnswer(v, what, empty(`${what} result`));
}

// --- the activation message ------------------------------------------------------------------------------

/** The prefix of every activation message; a signer's round 2 signs no message that starts with it. */
const ACTIVATION_MESSAGE_PREFIX = 'hoarfrost-key-activation-v1';

/** "hoarfrost-key-activation-v1" ‖ session_digest ‖ pkp_digest: the only message a key generation signs. */
export function activationMessage(session: Uint8Array, pkpDigest: Uint8Array): Uint8Array {
  const prefix = utf8.encode(ACTIVATION_MESSAGE_PREFIX);
  const out = new Uint8Array(prefix.length + 64);
  out.set(prefix);
  out.set(session, prefix.length);
  out.set(pkpDigest, prefix.length + 32);
  return out;
}

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

// --- strict shape helpers (the style of protocol.ts) -------------------------------------------------------

type Obj = Record<string, unknown>;

function invalid(message: string): WireFormatError {
  return new WireFormatError('INVALID_REQUEST', message);
}

function obj(v: unknown, what: string, required: readonly string[], optional: readonly string[] = []): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw invalid(`${what} must be a map`);
  const o = v as Obj;
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) throw invalid(`${what}: unknown field "${k.slice(0, 64)}"`);
  }
  for (const k of required) if (!(k in o)) throw invalid(`${what}: missing field "${k}"`);
  return o;
}

function bytes(v: unknown, what: string, length: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalid(`${what} must be a byte string`);
  if (v.length !== length) throw invalid(`${what} must be ${length} bytes`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function boundedBytes(v: unknown, what: string, max = MAX_KEYGEN_FIELD_BYTES): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalid(`${what} must be a byte string`);
  if (v.length === 0 || v.length > max) throw invalid(`${what} must be 1..${max} bytes`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(`${what} must be an integer between ${min} and ${max}`);
  return v;
}

function list(v: unknown, what: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v) || v.length < min || v.length > max) throw invalid(`${what} must be an array of ${min}..${max} entries`);
  return v;
}

function keyId(v: unknown): string {
  if (typeof v !== 'string' || !KEY_ID_RE.test(v)) throw invalid('key_id must match ' + KEY_ID_RE.source);
  return v;
}

function signerId(v: unknown, what: string): string {
  if (typeof v !== 'string' || !SIGNER_ID_RE.test(v)) throw invalid(`${what} must be a signer id (${SIGNER_ID_RE.source})`);
  return v;
}
