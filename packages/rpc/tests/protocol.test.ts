import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  FrostError,
  Identifier,
  ORDER,
  SignatureShare,
  SigningPackage,
  round1,
  round2,
  trustedDealerKeygen,
  aggregate,
  verifyEd25519,
  publicKeyPackageToJson,
  type KeyPackage,
  type PublicKeyPackage,
  type SigningNonces,
} from '@hoarfrost/frost';
import { decodeCbor, encodeCbor } from '../src/cbor.js';
import { WireFormatError } from '../src/errors.js';
import {
  KEY_ID_RE,
  RPC_PATHS,
  CHANNEL_PATH,
  SIGNER_ERROR_CODES,
  decodePublicKeyPackage,
  decodeRound2Request,
  decodeRound2Response,
  encodePublicKeyPackage,
  encodeRound2Request,
  encodeRound2Response,
  isSignerErrorCode,
  listedCommitment,
  parseInfoRequest,
  parseInfoResponse,
  MAX_ROUND1_BATCH,
  parseRound1Request,
  parseRound1Response,
  parseRound2Request,
  parseRound2Response,
  type Round2Request,
} from '../src/protocol.js';

const b32 = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);
const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The error `fn` throws; fails the test when it throws nothing. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, nothing was thrown');
}

function expectInvalidRequest(fn: () => unknown, message?: RegExp): void {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(WireFormatError);
  expect((e as WireFormatError).code).toBe('INVALID_REQUEST');
  if (message) expect((e as WireFormatError).message).toMatch(message);
}

function expectFrostError(fn: () => unknown, code: string): void {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(FrostError);
  expect((e as FrostError).code).toBe(code);
}

// ---------------------------------------------------------------------------------------------------
// Shapes: a valid sample per message and the mutations each parser must refuse.
// ---------------------------------------------------------------------------------------------------

type Path = (string | number)[];
const DELETE = Symbol('delete');

/** A deep copy of `value` with the field at `path` replaced (or deleted). */
function mutate(value: unknown, path: Path, replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (replacement === DELETE) delete at[last];
  else at[last] = replacement;
  return copy;
}

interface Shape {
  name: string;
  parse: (v: unknown) => unknown;
  valid: () => Record<string, unknown>;
  required: Path[];
  /** Unknown fields are refused at every level, so nested maps are listed too. */
  maps: Path[];
  byteFields: { path: Path; length?: number }[];
  keyIdFields: Path[];
  intFields: { path: Path; min: number; max: number }[];
  listFields: { path: Path; min: number; max: number }[];
}

const shapes: Shape[] = [
  {
    name: 'round1 request',
    parse: (v) => parseRound1Request(v, 10),
    valid: () => ({ key_id: 'default', count: 4 }),
    required: [['key_id'], ['count']],
    maps: [[]],
    byteFields: [],
    keyIdFields: [['key_id']],
    intFields: [{ path: ['count'], min: 1, max: 10 }],
    listFields: [],
  },
  {
    name: 'round1 response',
    parse: (v) => parseRound1Response(v, 10),
    valid: () => ({ identifier: b32(1), commitments: [{ hiding: b32(2), binding: b32(3) }], ttl_ms: 30_000 }),
    required: [['identifier'], ['commitments'], ['ttl_ms'], ['commitments', 0, 'hiding'], ['commitments', 0, 'binding']],
    maps: [[], ['commitments', 0]],
    byteFields: [
      { path: ['identifier'], length: 32 },
      { path: ['commitments', 0, 'hiding'], length: 32 },
      { path: ['commitments', 0, 'binding'], length: 32 },
    ],
    keyIdFields: [],
    intFields: [{ path: ['ttl_ms'], min: 0, max: 2 ** 31 }],
    listFields: [{ path: ['commitments'], min: 1, max: 10 }],
  },
  {
    name: 'round2 request',
    parse: (v) => parseRound2Request(v),
    valid: () => ({ key_id: 'mint-2026', message: new Uint8Array([1, 2, 3]), commitments: [{ identifier: b32(1), hiding: b32(2), binding: b32(3) }] }),
    required: [['key_id'], ['message'], ['commitments'], ['commitments', 0, 'identifier'], ['commitments', 0, 'hiding'], ['commitments', 0, 'binding']],
    maps: [[], ['commitments', 0]],
    byteFields: [
      { path: ['message'] },
      { path: ['commitments', 0, 'identifier'], length: 32 },
      { path: ['commitments', 0, 'hiding'], length: 32 },
      { path: ['commitments', 0, 'binding'], length: 32 },
    ],
    keyIdFields: [['key_id']],
    intFields: [],
    listFields: [{ path: ['commitments'], min: 1, max: 255 }],
  },
  {
    name: 'round2 response',
    parse: parseRound2Response,
    valid: () => ({ identifier: b32(1), share: b32(4), group_commitment: b32(5) }),
    required: [['identifier'], ['share']],
    maps: [[]],
    byteFields: [
      { path: ['identifier'], length: 32 },
      { path: ['share'], length: 32 },
      { path: ['group_commitment'], length: 32 },
    ],
    keyIdFields: [],
    intFields: [],
    listFields: [],
  },
  {
    name: 'info request',
    parse: parseInfoRequest,
    valid: () => ({ key_id: 'default' }),
    required: [],
    maps: [[]],
    byteFields: [],
    keyIdFields: [['key_id']],
    intFields: [],
    listFields: [],
  },
  {
    name: 'info response',
    parse: parseInfoResponse,
    valid: () => ({ identifier: b32(1), keys: [{ key_id: 'default', verifying_share: b32(2), verifying_key: b32(3), min_signers: 2 }] }),
    required: [['identifier'], ['keys'], ['keys', 0, 'key_id'], ['keys', 0, 'verifying_share'], ['keys', 0, 'verifying_key'], ['keys', 0, 'min_signers']],
    maps: [[], ['keys', 0]],
    byteFields: [
      { path: ['identifier'], length: 32 },
      { path: ['keys', 0, 'verifying_share'], length: 32 },
      { path: ['keys', 0, 'verifying_key'], length: 32 },
    ],
    keyIdFields: [['keys', 0, 'key_id']],
    intFields: [{ path: ['keys', 0, 'min_signers'], min: 2, max: 65535 }],
    listFields: [{ path: ['keys'], min: 0, max: 1000 }],
  },
];

const at = (value: unknown, path: Path): unknown => path.reduce((v, k) => (v as Record<string | number, unknown>)[k], value);
const byName = shapes.map((s) => [s.name, s] as const);

describe('message parsers', () => {
  it.each(byName)('%s: accepts its valid shape, also after a CBOR round trip', (_n, s) => {
    expect(s.parse(s.valid())).toEqual(s.valid());
    expect(s.parse(decodeCbor(encodeCbor(s.valid())))).toEqual(s.valid());
  });

  it.each(byName)('%s: byte fields come back as plain Uint8Array views, not Buffers', (_n, s) => {
    const parsed = s.parse(decodeCbor(encodeCbor(s.valid())));
    for (const { path } of s.byteFields) {
      expect(Object.getPrototypeOf(at(parsed, path))).toBe(Uint8Array.prototype);
    }
  });

  it.each(byName)('%s: refuses anything that is not a map', (_n, s) => {
    for (const v of [null, undefined, 'text', 7, true, [], [s.valid()], new Uint8Array(4)]) {
      expectInvalidRequest(() => s.parse(v), /must be a map/);
    }
  });

  it.each(byName)('%s: refuses an unknown field at every level', (_n, s) => {
    for (const path of s.maps) expectInvalidRequest(() => s.parse(mutate(s.valid(), [...path, 'extra'], 1)), /unknown field "extra"/);
  });

  it.each(byName.filter(([, s]) => s.required.length > 0))('%s: refuses each missing required field', (_n, s) => {
    for (const path of s.required) {
      expectInvalidRequest(() => s.parse(mutate(s.valid(), path, DELETE)), new RegExp(`missing field "${String(path[path.length - 1])}"`));
    }
  });

  it.each(byName.filter(([, s]) => s.byteFields.length > 0))('%s: refuses wrong byte lengths and non-bytes in byte fields', (_n, s) => {
    for (const { path, length } of s.byteFields) {
      if (length !== undefined) {
        for (const n of [0, length - 1, length + 1]) expectInvalidRequest(() => s.parse(mutate(s.valid(), path, new Uint8Array(n))), new RegExp(`must be ${length} bytes`));
      }
      // An array of numbers, a hex string or a number is not a CBOR byte string.
      for (const wrong of [Array.from(b32(1)), toHex(b32(1)), 5, null, { 0: 1 }]) {
        expectInvalidRequest(() => s.parse(mutate(s.valid(), path, wrong)), /must be a byte string/);
      }
    }
  });

  it.each(byName.filter(([, s]) => s.keyIdFields.length > 0))('%s: refuses key ids outside KEY_ID_RE', (_n, s) => {
    for (const path of s.keyIdFields) {
      for (const bad of ['', '-default', '.hidden', 'a/b', 'key id', 'k'.repeat(65), 'é', 7, null, new Uint8Array(3)]) {
        expectInvalidRequest(() => s.parse(mutate(s.valid(), path, bad)), /key_id must match/);
      }
      for (const good of ['k', 'K'.repeat(64), 'mint-2026', 'a.b_c-d', '0']) {
        expect(at(s.parse(mutate(s.valid(), path, good)), path)).toBe(good);
      }
    }
  });

  it.each(byName.filter(([, s]) => s.intFields.length > 0))('%s: refuses out-of-range and non-integer numbers, accepts the bounds', (_n, s) => {
    for (const { path, min, max } of s.intFields) {
      for (const bad of [min - 1, max + 1, min + 0.5, Number.NaN, Infinity, -Infinity, String(min), null, BigInt(min)]) {
        expectInvalidRequest(() => s.parse(mutate(s.valid(), path, bad)), new RegExp(`must be an integer between ${min} and ${max}`));
      }
      for (const good of [min, max]) expect(at(s.parse(mutate(s.valid(), path, good)), path)).toBe(good);
    }
  });

  it.each(byName.filter(([, s]) => s.listFields.length > 0))('%s: refuses lists outside their bounds and non-lists', (_n, s) => {
    for (const { path, min } of s.listFields) {
      if (min > 0) expectInvalidRequest(() => s.parse(mutate(s.valid(), path, [])), /must be an array of/);
      for (const bad of [{}, 'list', null, new Uint8Array(2)]) expectInvalidRequest(() => s.parse(mutate(s.valid(), path, bad)), /must be an array of/);
    }
  });

  it('round1 request: count is bounded by the caller-supplied maximum', () => {
    expect(parseRound1Request({ key_id: 'k', count: 100 }, 100).count).toBe(100);
    expectInvalidRequest(() => parseRound1Request({ key_id: 'k', count: 101 }, 100), /between 1 and 100/);
  });

  it('round2 request: at most 255 participants by default, or the given maximum', () => {
    const entry = { identifier: b32(1), hiding: b32(2), binding: b32(3) };
    const req = (n: number) => ({ key_id: 'k', message: new Uint8Array(0), commitments: Array.from({ length: n }, () => entry) });
    expect(parseRound2Request(req(255)).commitments).toHaveLength(255);
    expectInvalidRequest(() => parseRound2Request(req(256)), /1\.\.255/);
    expect(parseRound2Request(req(3), 3).commitments).toHaveLength(3);
    expectInvalidRequest(() => parseRound2Request(req(4), 3), /1\.\.3/);
  });

  it('round2 request: an empty message is a valid byte string (policy decides about it)', () => {
    expect(parseRound2Request({ ...shapes[2]!.valid(), message: new Uint8Array(0) }).message).toEqual(new Uint8Array(0));
  });

  it('round2 response: group_commitment is optional and absent from the result when absent', () => {
    const r = parseRound2Response({ identifier: b32(1), share: b32(4) });
    expect(r).toEqual({ identifier: b32(1), share: b32(4) });
    expect('group_commitment' in r).toBe(false);
  });

  it('info request: key_id is optional', () => {
    expect(parseInfoRequest({})).toEqual({});
  });

  it('info response: an empty key list is valid, more than 1000 keys are not', () => {
    expect(parseInfoResponse({ identifier: b32(1), keys: [] }).keys).toEqual([]);
    const key = shapes[5]!.valid().keys as unknown[];
    expectInvalidRequest(() => parseInfoResponse({ identifier: b32(1), keys: Array.from({ length: 1001 }, () => key[0]) }), /0\.\.1000/);
  });

  it('round1 response: at most the count asked (the caller passes it), at most MAX_ROUND1_BATCH by default', () => {
    const entry = { hiding: b32(2), binding: b32(3) };
    const answer = (n: number) => ({ identifier: b32(1), commitments: Array.from({ length: n }, () => entry), ttl_ms: 1 });
    expect(parseRound1Response(answer(3), 3).commitments).toHaveLength(3);
    expect(parseRound1Response(answer(1), 3).commitments).toHaveLength(1);
    expectInvalidRequest(() => parseRound1Response(answer(4), 3), /commitments must be an array of 1\.\.3 entries/);
    expect(MAX_ROUND1_BATCH).toBe(1000);
    expect(parseRound1Response(answer(MAX_ROUND1_BATCH)).commitments).toHaveLength(MAX_ROUND1_BATCH);
    expectInvalidRequest(() => parseRound1Response(answer(MAX_ROUND1_BATCH + 1)), /1\.\.1000 entries/);
  });

  it('info response: max_message_bytes and instance_id are optional, bounded and kept when present', () => {
    const base = shapes[5]!.valid();
    expect(parseInfoResponse(base)).not.toHaveProperty('max_message_bytes');
    expect(parseInfoResponse(base)).not.toHaveProperty('instance_id');
    const full = { ...base, max_message_bytes: 65536, instance_id: new Uint8Array(16).fill(9) };
    expect(parseInfoResponse(full)).toEqual(full);
    expect(parseInfoResponse(decodeCbor(encodeCbor(full)))).toEqual(full);
    for (const bad of [0, -1, 1.5, 2 ** 31 + 1, '65536', null]) {
      expectInvalidRequest(() => parseInfoResponse({ ...base, max_message_bytes: bad }), /max_message_bytes must be an integer between 1 and 2147483648/);
    }
    expect(parseInfoResponse({ ...base, max_message_bytes: 2 ** 31 }).max_message_bytes).toBe(2 ** 31);
    for (const bad of [new Uint8Array(15), new Uint8Array(17), 'id', 7]) {
      expectInvalidRequest(() => parseInfoResponse({ ...base, instance_id: bad }), /instance_id must be/);
    }
  });

  it('info response: each key may carry its identifier, state, version, creation time and public key package; the top identifier only when keys are listed', () => {
    const base = shapes[5]!.valid();
    const key = (base.keys as Record<string, unknown>[])[0]!;
    const pkp = encodePublicKeyPackage(trustedDealerKeygen({ minSigners: 2, maxSigners: 3 }).publicKeyPackage);
    const full = { ...base, keys: [{ ...key, identifier: b32(7), state: 'pending', version: 2, created_at: 1_700_000_000, public_key_package: pkp }] };
    expect(parseInfoResponse(decodeCbor(encodeCbor(full)))).toEqual(full);
    expect(parseInfoResponse({ keys: [] })).toEqual({ keys: [] });
    expectInvalidRequest(() => parseInfoResponse({ keys: [key] }), /missing field "identifier"/);
    const bad = (extra: Record<string, unknown>) => parseInfoResponse({ ...base, keys: [{ ...key, ...extra }] });
    expectInvalidRequest(() => bad({ state: 'done' }), /state must be one of pending, active, retired/);
    expectInvalidRequest(() => bad({ version: 0 }), /version must be an integer/);
    for (const at of [-1, 2 ** 32, 1_700_000_000_000]) expectInvalidRequest(() => bad({ created_at: at }), /created_at must be an integer between 0 and 4294967295/);
    expectInvalidRequest(() => bad({ identifier: new Uint8Array(31) }), /identifier must be 32 bytes/);
    expectInvalidRequest(() => bad({ public_key_package: new Uint8Array(0) }), /public_key_package must be 1\.\./);
    expectInvalidRequest(() => bad({ public_key_package: 'json' }), /public_key_package must be a byte string/);
  });

  it('public key packages: one canonical encoding (frost-rs JSON); anything else is refused', () => {
    const dealt = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
    const bytes = encodePublicKeyPackage(dealt.publicKeyPackage);
    expect(JSON.parse(Buffer.from(bytes).toString('utf8'))).toEqual(publicKeyPackageToJson(dealt.publicKeyPackage));
    const back = decodePublicKeyPackage(bytes);
    expect(Buffer.from(encodePublicKeyPackage(back))).toEqual(Buffer.from(bytes));
    // The same package with whitespace, or its fields in another order, is not canonical.
    const spaced = new TextEncoder().encode(JSON.stringify(publicKeyPackageToJson(dealt.publicKeyPackage), null, 1));
    expectInvalidRequest(() => decodePublicKeyPackage(spaced), /not in its canonical encoding/);
    const { header, ...rest } = publicKeyPackageToJson(dealt.publicKeyPackage) as Record<string, unknown>;
    expectInvalidRequest(() => decodePublicKeyPackage(new TextEncoder().encode(JSON.stringify({ ...rest, header }))), /not in its canonical encoding/);
    expectInvalidRequest(() => decodePublicKeyPackage(new TextEncoder().encode('{"x":1}')), /public_key_package/);
    expectInvalidRequest(() => decodePublicKeyPackage(Uint8Array.from([0xff, 0xfe])), /public_key_package/);
  });

  it('names the offending list entry in the message', () => {
    const v = shapes[1]!.valid();
    const twice = { ...v, commitments: [{ hiding: b32(2), binding: b32(3) }, { hiding: b32(2) }] };
    expectInvalidRequest(() => parseRound1Response(twice), /commitments\[1\]: missing field "binding"/);
  });

  it('property: any unknown top-level field is refused', () => {
    fc.assert(
      fc.property(fc.constantFrom(...shapes), fc.string({ minLength: 1 }), fc.anything(), (s, key, value) => {
        const allowed = Object.keys(s.valid());
        fc.pre(!allowed.includes(key) && key !== '__proto__');
        expectInvalidRequest(() => s.parse({ ...s.valid(), [key]: value }), /unknown field/);
      }),
      { numRuns: 300 },
    );
  });

  it('property: any value that is not a byte string of the right length is refused in a byte field', () => {
    const cases = shapes.flatMap((s) => s.byteFields.map((f) => ({ s, f })));
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.oneof(fc.anything(), fc.uint8Array({ maxLength: 40 })), ({ s, f }, value) => {
        fc.pre(!(value instanceof Uint8Array && (f.length === undefined || value.length === f.length)));
        // undefined in an optional field means "absent", which is valid.
        fc.pre(!(value === undefined && !s.required.some((p) => p.join() === f.path.join())));
        expectInvalidRequest(() => s.parse(mutate(s.valid(), f.path, value)));
      }),
      { numRuns: 500 },
    );
  });

  it('property: byte fields accept any bytes of the right length, unchanged', () => {
    const cases = shapes.flatMap((s) => s.byteFields.map((f) => ({ s, f })));
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.uint8Array({ minLength: 32, maxLength: 32 }), ({ s, f }, value) => {
        expect(toHex(at(s.parse(mutate(s.valid(), f.path, value)), f.path) as Uint8Array)).toBe(toHex(value));
      }),
      { numRuns: 200 },
    );
  });

  it('property: integer fields accept exactly the integers within their bounds', () => {
    const cases = shapes.flatMap((s) => s.intFields.map((f) => ({ s, f })));
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.oneof(fc.integer({ min: -10, max: 70_000 }), fc.double(), fc.maxSafeInteger()), ({ s, f }, n) => {
        const ok = Number.isInteger(n) && n >= f.min && n <= f.max;
        if (ok) expect(at(s.parse(mutate(s.valid(), f.path, n)), f.path)).toBe(n);
        else expectInvalidRequest(() => s.parse(mutate(s.valid(), f.path, n)));
      }),
      { numRuns: 500 },
    );
  });

  it('property: key ids are accepted exactly when they match KEY_ID_RE', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,70}$/)), (k) => {
        if (KEY_ID_RE.test(k)) expect(parseRound1Request({ key_id: k, count: 1 }, 1).key_id).toBe(k);
        else expectInvalidRequest(() => parseRound1Request({ key_id: k, count: 1 }, 1), /key_id/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('RPC constants', () => {
  it('paths are the versioned RPC paths', () => {
    expect(RPC_PATHS).toEqual({ round1: '/v1/round1', round2: '/v1/round2', round2Batch: '/v1/round2/batch', info: '/v1/info' });
    expect(CHANNEL_PATH).toBe('/v1/channel');
  });
});

// ---------------------------------------------------------------------------------------------------
// The round-2 codec, with real key material and commitments.
// ---------------------------------------------------------------------------------------------------

const IDENTITY = hex('01' + '00'.repeat(31));
// y = -1: a point of order 2, on the curve but outside the prime-order subgroup.
const SMALL_ORDER = hex('ec' + 'ff'.repeat(30) + '7f');

interface Participant {
  id: Identifier;
  keyPackage: KeyPackage;
  nonces: SigningNonces;
}

/** A 2-of-3 key set and a signing package over `message` with all three participants. */
function signingSetup(message: Uint8Array): { participants: Participant[]; pkg: SigningPackage; publicKeyPackage: PublicKeyPackage } {
  const { keyPackages, publicKeyPackage } = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
  const participants = [...keyPackages.values()].map((keyPackage) => {
    const { nonces, commitments } = round1.commit(keyPackage.signingShare);
    return { id: keyPackage.identifier, keyPackage, nonces, commitments };
  });
  const pkg = new SigningPackage(participants.map((p) => ({ identifier: p.id, commitments: p.commitments })), message);
  return { participants, pkg, publicKeyPackage };
}

/** What a package says, as comparable plain data. */
function describePackage(pkg: SigningPackage) {
  return {
    message: toHex(pkg.message),
    entries: [...pkg.signingCommitments.values()].map((e) => ({
      identifier: e.identifier.toHex(),
      hiding: toHex(e.commitments.hidingBytes),
      binding: toHex(e.commitments.bindingBytes),
    })),
  };
}

/** `req` with the commitment of participant `index` given `field` = `value`. */
function withCommitment(req: Round2Request, index: number, field: 'hiding' | 'binding', value: Uint8Array): Round2Request {
  return { ...req, commitments: req.commitments.map((c, i) => (i === index ? { ...c, [field]: value } : c)) };
}

describe('round-2 codec', () => {
  const message = new TextEncoder().encode('transfer 10 to alice');
  const { participants, pkg } = signingSetup(message);
  const [p1, p2] = participants as [Participant, Participant, Participant];

  it('encodeRound2Request lists every participant with its commitments, in identifier order', () => {
    const req = encodeRound2Request('default', pkg);
    expect(req.key_id).toBe('default');
    expect(toHex(req.message)).toBe(toHex(message));
    expect(req.commitments.map((c) => toHex(c.identifier))).toEqual(participants.map((p) => p.id.toHex()).sort());
  });

  it('encode → CBOR → parse → decode gives back the same message, identifiers and commitments', () => {
    const wire = encodeCbor(encodeRound2Request('default', pkg));
    const parsed = parseRound2Request(decodeCbor(wire));
    for (const trusted of [p1.id, 'all' as const]) {
      expect(describePackage(decodeRound2Request(parsed, trusted))).toEqual(describePackage(pkg));
    }
  });

  it('the whole round trip signs: shares over decoded packages, sent back as responses, aggregate to a valid signature', () => {
    // Each signer decodes the wire request trusting only its own commitments, signs, and answers;
    // the coordinator decodes the answers and aggregates over its own package.
    const { participants: ps, pkg: original, publicKeyPackage } = signingSetup(message);
    const wire = encodeCbor(encodeRound2Request('k', original));
    const shares = new Map<string, SignatureShare>();
    for (const p of ps) {
      const decoded = decodeRound2Request(parseRound2Request(decodeCbor(wire)), p.id);
      const answer = encodeCbor(encodeRound2Response(p.id, round2.sign(decoded, p.nonces, p.keyPackage)));
      const response = parseRound2Response(decodeCbor(answer));
      shares.set(Identifier.fromBytes(response.identifier).toHex(), decodeRound2Response(response));
    }
    const signature = aggregate(original, shares, publicKeyPackage);
    expect(verifyEd25519(publicKeyPackage.verifyingKey.toBytes(), message, signature.toBytes())).toBe(true);
  });

  it.each([
    ['the identity', IDENTITY],
    ['a small-order point', SMALL_ORDER],
    ['a non-canonical encoding (y = p)', hex('ed' + 'ff'.repeat(30) + '7f')],
  ])("validates another participant's commitments: %s is refused with INVALID_POINT", (_what, bad) => {
    const req = encodeRound2Request('default', pkg);
    const index = req.commitments.findIndex((c) => toHex(c.identifier) === p2.id.toHex());
    for (const field of ['hiding', 'binding'] as const) {
      expectFrostError(() => decodeRound2Request(withCommitment(req, index, field, bad), p1.id), 'INVALID_POINT');
    }
  });

  it("does not check the trusted participant's own commitments (the signer matched them to its nonce)", () => {
    const req = encodeRound2Request('default', pkg);
    const index = req.commitments.findIndex((c) => toHex(c.identifier) === p1.id.toHex());
    const decoded = decodeRound2Request(withCommitment(req, index, 'hiding', IDENTITY), p1.id);
    expect(toHex(decoded.commitmentsOf(p1.id)!.hidingBytes)).toBe(toHex(IDENTITY));
    // The same bytes for another trusted identifier are checked.
    expectFrostError(() => decodeRound2Request(withCommitment(req, index, 'hiding', IDENTITY), p2.id), 'INVALID_POINT');
  });

  it("with 'all' no commitment is checked (a worker validated the request already)", () => {
    const req = encodeRound2Request('default', pkg);
    let tampered = req;
    for (let i = 0; i < req.commitments.length; i++) tampered = withCommitment(tampered, i, 'binding', SMALL_ORDER);
    const decoded = decodeRound2Request(tampered, 'all');
    for (const e of decoded.signingCommitments.values()) expect(toHex(e.commitments.bindingBytes)).toBe(toHex(SMALL_ORDER));
  });

  it('refuses duplicate identifiers with INVALID_SIGNING_PACKAGE, trusted or not', () => {
    const req = encodeRound2Request('default', pkg);
    const dup: Round2Request = { ...req, commitments: [...req.commitments, req.commitments[1]!] };
    expectFrostError(() => decodeRound2Request(dup, p1.id), 'INVALID_SIGNING_PACKAGE');
    expectFrostError(() => decodeRound2Request(dup, 'all'), 'INVALID_SIGNING_PACKAGE');
  });

  it('refuses an identifier that is zero or not a canonical scalar with INVALID_IDENTIFIER', () => {
    const req = encodeRound2Request('default', pkg);
    const orderLE = Uint8Array.from(Buffer.from(ORDER.toString(16).padStart(64, '0'), 'hex').reverse());
    for (const bad of [new Uint8Array(32), orderLE, new Uint8Array(32).fill(0xff)]) {
      const r = { ...req, commitments: req.commitments.map((c, i) => (i === 0 ? { ...c, identifier: bad } : c)) };
      expectFrostError(() => decodeRound2Request(r, 'all'), 'INVALID_IDENTIFIER');
    }
  });

  it('property: changing any commitment byte of another participant is refused or yields exactly that change', () => {
    const req = encodeRound2Request('default', pkg);
    const others = req.commitments.map((c, i) => ({ c, i })).filter(({ c }) => toHex(c.identifier) !== p1.id.toHex());
    fc.assert(
      fc.property(fc.constantFrom(...others), fc.constantFrom('hiding' as const, 'binding' as const), fc.nat(31), fc.integer({ min: 1, max: 255 }), ({ c, i }, field, pos, x) => {
        const changed = Uint8Array.from(c[field]);
        changed[pos]! ^= x;
        let decoded: SigningPackage | undefined;
        try {
          decoded = decodeRound2Request(withCommitment(req, i, field, changed), p1.id);
        } catch (e) {
          expect(e).toBeInstanceOf(FrostError);
          expect((e as FrostError).code).toBe('INVALID_POINT');
        }
        // Accepted only when the change is another valid point: then the package carries it verbatim.
        if (decoded) expect(toHex(decoded.commitmentsOf(Identifier.fromBytes(c.identifier))![field === 'hiding' ? 'hidingBytes' : 'bindingBytes'])).toBe(toHex(changed));
      }),
      { numRuns: 200 },
    );
  });
});

describe('listedCommitment', () => {
  const { participants, pkg } = signingSetup(new Uint8Array([1]));
  const req = encodeRound2Request('default', pkg);
  const [p1, p2] = participants as [Participant, Participant, Participant];

  it('returns the entry of an identifier listed exactly once', () => {
    const found = listedCommitment(req, p2.id);
    expect(found).toBeDefined();
    expect(toHex(found!.hiding)).toBe(toHex(pkg.commitmentsOf(p2.id)!.hidingBytes));
    expect(toHex(found!.binding)).toBe(toHex(pkg.commitmentsOf(p2.id)!.bindingBytes));
  });

  it('returns undefined for an identifier that is not listed', () => {
    expect(listedCommitment(req, Identifier.fromNumber(42))).toBeUndefined();
  });

  it('returns undefined for an identifier listed twice, even with the same commitments', () => {
    const entry = req.commitments.find((c) => toHex(c.identifier) === p1.id.toHex())!;
    expect(listedCommitment({ ...req, commitments: [...req.commitments, entry] }, p1.id)).toBeUndefined();
  });

  it('reads the raw request: it works before any point validation', () => {
    const index = req.commitments.findIndex((c) => toHex(c.identifier) === p1.id.toHex());
    const raw = withCommitment(req, index, 'hiding', IDENTITY);
    expect(toHex(listedCommitment(raw, p1.id)!.hiding)).toBe(toHex(IDENTITY));
  });
});

describe('round-2 response codec', () => {
  const scalarLE = (v: bigint): Uint8Array => Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex').reverse());

  it('a real share round-trips through CBOR with its group_commitment hint', () => {
    const { participants, pkg } = signingSetup(new TextEncoder().encode('hello'));
    const p = participants[0]!;
    const share = round2.sign(pkg, p.nonces, p.keyPackage);
    const wire = encodeRound2Response(p.id, share);
    expect(toHex(wire.identifier)).toBe(p.id.toHex());
    expect(wire.group_commitment).toBeDefined();
    const back = decodeRound2Response(parseRound2Response(decodeCbor(encodeCbor(wire))));
    expect(back.share).toBe(share.share);
    expect(toHex(back.groupCommitment!)).toBe(toHex(share.groupCommitment!));
  });

  it('a share without a hint is sent without group_commitment', () => {
    const wire = encodeRound2Response(Identifier.fromNumber(3), new SignatureShare(12345n));
    expect('group_commitment' in wire).toBe(false);
    const back = decodeRound2Response(parseRound2Response(decodeCbor(encodeCbor(wire))));
    expect(back.share).toBe(12345n);
    expect(back.groupCommitment).toBeUndefined();
  });

  it('refuses a non-canonical share scalar (≥ group order) with INVALID_SCALAR', () => {
    for (const v of [ORDER, ORDER + 1n, 2n ** 256n - 1n]) {
      expectFrostError(() => decodeRound2Response({ identifier: b32(1), share: scalarLE(v) }), 'INVALID_SCALAR');
    }
    expect(decodeRound2Response({ identifier: b32(1), share: scalarLE(ORDER - 1n) }).share).toBe(ORDER - 1n);
  });

  it('property: a 32-byte share decodes exactly when it is below the group order, to that value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.bigInt({ min: ORDER - 1000n, max: ORDER + 1000n })), (v) => {
        if (v < ORDER) expect(decodeRound2Response({ identifier: b32(1), share: scalarLE(v) }).share).toBe(v);
        else expectFrostError(() => decodeRound2Response({ identifier: b32(1), share: scalarLE(v) }), 'INVALID_SCALAR');
      }),
      { numRuns: 300 },
    );
  });
});

describe('signer error codes', () => {
  const kinds = ['auth', 'request', 'package', 'stale', 'policy', 'unavailable', 'internal'];

  it('every code is an uppercase identifier with one of the documented kinds', () => {
    const entries = Object.entries(SIGNER_ERROR_CODES);
    expect(entries.length).toBeGreaterThan(0);
    for (const [code, kind] of entries) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(kinds).toContain(kind);
    }
    // Every documented kind is used by at least one code.
    expect(new Set(Object.values(SIGNER_ERROR_CODES))).toEqual(new Set(kinds));
  });

  it('the codes this package throws on the signer side are documented with the right kind', () => {
    // A WireFormatError or TokenError code the signer forwards must be in the set, or the client
    // would turn it into SIGNER_ERROR.
    for (const code of ['MALFORMED_CBOR', 'INVALID_REQUEST']) expect(SIGNER_ERROR_CODES[code as keyof typeof SIGNER_ERROR_CODES]).toBe('request');
    for (const code of ['TOKEN_MISSING', 'TOKEN_BAD_SIGNATURE', 'TOKEN_REPLAYED', 'TOKEN_BODY_MISMATCH']) {
      expect(SIGNER_ERROR_CODES[code as keyof typeof SIGNER_ERROR_CODES]).toBe('auth');
    }
    expect(SIGNER_ERROR_CODES.REPLAY_CACHE_FULL).toBe('unavailable');
    for (const code of ['CLIENT_CERT_REQUIRED', 'CLIENT_CERT_UNTRUSTED', 'CLIENT_IDENTITY_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE']) {
      expect(isSignerErrorCode(code)).toBe(true);
    }
  });

  it('isSignerErrorCode accepts every documented code', () => {
    for (const code of Object.keys(SIGNER_ERROR_CODES)) expect(isSignerErrorCode(code)).toBe(true);
  });

  it('isSignerErrorCode refuses unknown strings, the client-side failure codes, non-strings and inherited properties', () => {
    const refused: unknown[] = [
      '',
      'internal',
      'Internal',
      ' INTERNAL',
      'NOT_A_CODE',
      // The client's own failure codes: a signer must not be able to pose as a timeout or an outage.
      'SIGNER_TIMEOUT',
      'SIGNER_UNREACHABLE',
      'SIGNER_ERROR',
      // Inherited from Object.prototype.
      'toString',
      '__proto__',
      'constructor',
      'hasOwnProperty',
      'valueOf',
      // Not strings, even those whose string form is a code.
      undefined,
      null,
      0,
      {},
      ['INTERNAL'],
      new String('INTERNAL'),
      { toString: () => 'INTERNAL' },
      Symbol('INTERNAL'),
    ];
    for (const v of refused) expect(isSignerErrorCode(v)).toBe(false);
  });
});
