/**
 * Fuzzed requests on a signer's RPC port, sent with a valid mTLS client certificate (what reaches the
 * signer's parsers only after the TLS check): random and mutated tokens — hand-made JWTs signed with
 * the coordinator's real key included — and random, mutated and hostile CBOR bodies, many wrapped in
 * valid tokens so that they reach the CBOR decoder and the round handlers. Commitments the signer
 * really issued are fed back (see {@link RpcFuzzState}) so that round 2 is fuzzed with packages it
 * may sign as well as ones it must refuse.
 * @module
 */
import { createHash, sign as edSign, type KeyObject } from 'node:crypto';
import { CBOR_CONTENT_TYPE, RPC_PATHS, RPC_TOKEN_TYPE, encodeCbor, type RpcTokenSigner } from '@hoarfrost/rpc';
import type { Rng } from '../rng.js';
import { mutateBytes, oddNumber, oddString, randomJson } from './values.js';

export interface RpcFuzzContext {
  /** The fuzzed signer's id (the `aud` its tokens need) and another signer's. */
  signerId: string;
  otherSignerId: string;
  keyId: string;
  /** Mints tokens exactly as the coordinator does (its key, kid and issuer). */
  tokens: RpcTokenSigner;
  /** The same key, for hand-made tokens. */
  jwtKey: KeyObject;
  kid: string;
  issuer: string;
}

/** What earlier answers taught the fuzzer: the signer's identifier and commitments it issued. */
export interface RpcFuzzState {
  identifier?: Uint8Array;
  commitments: { hiding: Uint8Array; binding: Uint8Array }[];
  /** Requests sent with a valid token (to replay). */
  sent: { path: string; authorization: string; body: Buffer }[];
}

export interface RpcCase {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

const PATHS = Object.values(RPC_PATHS);

/** The Ed25519 identity element's encoding (y = 1): a commitment a signer must refuse. */
const IDENTITY = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]);

/** An identifier scalar (little-endian) for participant number `n`. */
const identifierBytes = (n: number): Uint8Array => {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(n);
  return b;
};

function validRequest(rng: Rng, path: string, ctx: RpcFuzzContext, state: RpcFuzzState): Record<string, unknown> {
  if (path === RPC_PATHS.round1) return { key_id: ctx.keyId, count: rng.chance(0.9) ? rng.int(1, 4) : oddNumber(rng) };
  if (path === RPC_PATHS.info) return rng.chance(0.5) ? {} : { key_id: ctx.keyId };
  const mine = state.identifier ?? identifierBytes(1);
  const own = state.commitments.length > 0 && rng.chance(0.7) ? state.commitments.splice(rng.int(0, state.commitments.length - 1), 1)[0]! : { hiding: rng.bytes(32), binding: rng.bytes(32) };
  const other = rng.pick<() => { hiding: Uint8Array; binding: Uint8Array }>([
    () => own, // the same (valid) points under another identifier: a package the signer may sign
    () => ({ hiding: rng.bytes(32), binding: rng.bytes(32) }),
    () => ({ hiding: IDENTITY, binding: IDENTITY }),
    () => ({ hiding: own.hiding, binding: IDENTITY }),
  ])();
  const otherId = rng.pick([identifierBytes(2), identifierBytes(3), identifierBytes(rng.int(4, 70_000)), rng.bytes(32), Buffer.alloc(32), mine]);
  const commitments = [
    { identifier: mine, ...own },
    { identifier: otherId, ...other },
  ];
  if (rng.chance(0.1)) commitments.push({ identifier: mine, ...own });
  return { key_id: ctx.keyId, message: rng.bytes(rng.size(256)), commitments: rng.chance(0.5) ? commitments : commitments.reverse() };
}

/** A decoded request with one field replaced, removed or added. */
function mutateRequest(rng: Rng, req: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...req };
  const keys = Object.keys(out);
  switch (rng.int(0, 5)) {
    case 0:
      if (keys.length) delete out[rng.pick(keys)];
      break;
    case 1:
      out[rng.chance(0.5) ? oddString(rng).slice(0, 40) : rng.pick(['count', 'key_id', 'message', 'commitments', 'share', 'identifier'])] = randomJson(rng, 2);
      break;
    case 2:
      if (keys.length) out[rng.pick(keys)] = rng.pick<() => unknown>([() => randomJson(rng, 2), () => oddNumber(rng), () => rng.bytes(rng.size(64)), () => oddString(rng), () => null])();
      break;
    case 3:
      out.key_id = rng.pick(['', 'Default', '../default', 'a'.repeat(65), oddString(rng), 'unknown-key']);
      break;
    case 4:
      if (!Array.isArray(out.commitments)) {
        out.count = rng.pick([0, -1, 33, 1000, 100_000, 2 ** 32, 1.5, '1']);
        break;
      }
      out.commitments = rng.pick<() => unknown>([
        () => Array.from({ length: rng.pick([0, 1, 256, 1000]) }, () => (out.commitments as unknown[])[0]),
        () => (out.commitments as Record<string, unknown>[]).map((c, i) => (i === 0 ? { ...c, [rng.pick(['identifier', 'hiding', 'binding'])]: rng.bytes(rng.pick([0, 31, 33, 64])) } : c)),
        () => (out.commitments as Record<string, unknown>[]).map((c) => ({ ...c, extra: 1 })),
        () => (out.commitments as Record<string, unknown>[]).map((c) => [c.identifier, c.hiding, c.binding]),
      ])();
      break;
    default:
      out.message = rng.bytes(rng.pick([0, 1, 65_536, 70_000]));
  }
  return out;
}

/** Byte strings cbor-x or a lax decoder would expand, reference, tag or choke on. */
function hostileCbor(rng: Rng): Buffer {
  const u64max = Buffer.alloc(8, 0xff);
  const nested = (n: number) => Buffer.concat([Buffer.alloc(n, 0x81), Buffer.from([0x00])]);
  return rng.pick<() => Buffer>([
    () => Buffer.concat([Buffer.from([0xd8, 0x69]), Buffer.from(encodeCbor([['a', 'b'], [1, 2]]))]), // record definition
    () => Buffer.concat([Buffer.from([0xd8, 0x33]), Buffer.from(encodeCbor([Array.from({ length: 64 }, () => 'x'.repeat(64))]))]), // packed table
    () => Buffer.from([0xc6, 0x00]), // packed reference
    () => Buffer.from([0xd8, 0x1c, 0x81, 0xd8, 0x1d, 0x00]), // shareable / shared reference
    () => Buffer.concat([Buffer.from([0xd8, 0x40]), Buffer.from(encodeCbor(rng.bytes(16)))]), // typed array
    () => Buffer.concat([Buffer.from([0xc2]), Buffer.from(encodeCbor(rng.bytes(64)))]), // bignum
    () => Buffer.concat([Buffer.from([0xd9, 0xd9, 0xf7]), Buffer.from(encodeCbor({ key_id: 'default', count: 1 }))]), // self-describe
    () => Buffer.concat([Buffer.from([0x5b]), u64max]), // byte string of 2⁶⁴−1 bytes
    () => Buffer.concat([Buffer.from([0x9b]), u64max]), // array of 2⁶⁴−1 items
    () => Buffer.concat([Buffer.from([0xbb]), u64max]), // map of 2⁶⁴−1 pairs
    () => Buffer.from([0x7a, 0x7f, 0xff, 0xff, 0xff, 0x61]), // text of 2 GiB
    () => nested(rng.int(100, 100_000)),
    () => Buffer.from([0x9f, 0x01, 0x02]), // indefinite array without a break
    () => Buffer.from([0xbf, 0xff]),
    () => Buffer.from([0x5f, 0x41, 0x00, 0xff]),
    () => Buffer.from([0xff]),
    () => Buffer.from([0xf7]),
    () => Buffer.from([0xf8, 0xff]),
    () => Buffer.from([0xf9, 0x7e, 0x00]),
    () => Buffer.concat([Buffer.from([0xa2, 0x65]), Buffer.from('count'), Buffer.from([0x01, 0x65]), Buffer.from('count'), Buffer.from([0x02])]), // duplicate keys
    () => Buffer.concat([Buffer.from(encodeCbor({ key_id: 'default', count: 1 })), Buffer.from([0x00])]), // trailing item
    () => Buffer.from([0xa1, 0x18, 0x2a, 0x01]), // integer map key
  ])();
}

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A JWT made by hand with the coordinator's real key: odd headers and claims the verifier must refuse. */
function craftedToken(rng: Rng, ctx: RpcFuzzContext, path: string, body: Buffer): string {
  const now = Math.floor(Date.now() / 1000);
  const header: Record<string, unknown> = { alg: 'EdDSA', typ: RPC_TOKEN_TYPE, kid: ctx.kid };
  const claims: Record<string, unknown> = {
    bsh: createHash('sha256').update(body).digest('base64url'),
    htu: path,
    iss: ctx.issuer,
    aud: ctx.signerId,
    iat: now,
    exp: now + 30,
    jti: rng.bytes(16).toString('base64url'),
  };
  let unsigned = false;
  rng.pick<() => void>([
    () => ((header.alg = 'none'), (unsigned = true)),
    () => (header.alg = 'HS256'),
    () => delete header.typ,
    () => (header.typ = 'JWT'),
    () => (header.kid = 'other'),
    () => (header.crit = ['exp']),
    () => (header.jwk = { kty: 'OKP' }),
    () => (claims.exp = now + 86_400),
    () => ((claims.iat = now + 600), (claims.exp = now + 630)),
    () => ((claims.iat = now - 600), (claims.exp = now - 570)),
    () => (claims.exp = 'soon'),
    () => (claims.jti = ''),
    () => (claims.jti = 'j'.repeat(rng.int(129, 2000))),
    () => (claims.aud = [ctx.otherSignerId, ctx.signerId]),
    () => (claims.aud = [ctx.otherSignerId]),
    () => (claims.iss = 'someone-else'),
    () => (claims.bsh = 42),
    () => delete claims.htu,
    () => (claims.nbf = now + 600),
    () => (claims.pad = 'x'.repeat(4000)),
    () => Object.defineProperty(claims, '__proto__', { value: { admin: true }, enumerable: true }),
  ])();
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `Bearer ${input}.${unsigned ? '' : edSign(null, Buffer.from(input), ctx.jwtKey).toString('base64url')}`;
}

function mutateToken(rng: Rng, token: string): string {
  const parts = token.slice('Bearer '.length).split('.');
  return rng.pick<() => string>([
    () => token.slice(0, rng.int(7, token.length - 1)),
    () => {
      const i = rng.int(7, token.length - 1);
      const c = token[i] === 'A' ? 'B' : 'A';
      return token.slice(0, i) + c + token.slice(i + 1);
    },
    () => `Bearer ${parts[0]}.${parts[1]}`,
    () => `Bearer ${parts[1]}.${parts[0]}.${parts[2]}`,
    () => token + '.' + parts[2],
    () => token.replace('Bearer ', 'bearer '),
    () => token.replace('Bearer ', 'Bearer  '),
    () => `${token}, ${token}`,
  ])();
}

function garbageToken(rng: Rng): string {
  return rng.pick<() => string>([
    () => 'Bearer',
    () => 'Bearer ' + rng.bytes(rng.size(200)).toString('base64url'),
    () => `Bearer ${rng.bytes(12).toString('base64url')}.${rng.bytes(40).toString('base64url')}.${rng.bytes(64).toString('base64url')}`,
    () => 'Basic ' + Buffer.from('coordinator:secret').toString('base64'),
    () => 'Bearer ' + 'A'.repeat(rng.size(16_000)) + '.e30.',
    () => `Bearer ${b64url({ alg: 'EdDSA', typ: RPC_TOKEN_TYPE, kid: 'coordinator-1' })}.${b64url('[]')}.${rng.bytes(64).toString('base64url')}`,
    () => oddString(rng).replace(/[\r\n\u0000-\u001f\u007f-\uffff]/g, ''),
  ])();
}

/** One fuzzed RPC. */
export function rpcCase(rng: Rng, ctx: RpcFuzzContext, state: RpcFuzzState): RpcCase {
  if (state.sent.length > 0 && rng.chance(0.04)) {
    const old = rng.pick(state.sent);
    return { kind: 'replayed', method: 'POST', path: old.path, headers: { 'content-type': CBOR_CONTENT_TYPE, authorization: old.authorization }, body: old.body };
  }
  const path = rng.chance(0.9)
    ? rng.pick(PATHS)
    : rng.pick(['/', '/v1/round3', `${RPC_PATHS.round2}/`, RPC_PATHS.round1.toUpperCase(), `${RPC_PATHS.round1}?count=1`, '/metrics', '/' + 'x'.repeat(rng.size(4000))]);
  // A case fuzzes the body behind a valid token (only an authenticated body reaches the decoder and
  // the round handlers) or the token in front of a well-formed body, rarely both.
  const focus = rng.weighted<string>([
    [60, 'body'],
    [35, 'token'],
    [5, 'both'],
  ]);
  const bodyKind =
    focus === 'token'
      ? 'valid'
      : rng.weighted<string>([
          [10, 'valid'],
          [30, 'fields'],
          [20, 'bytes-mutated'],
          [25, 'hostile-cbor'],
          [8, 'random-bytes'],
          [4, 'empty'],
          [3, 'oversized'],
        ]);
  const req = () => validRequest(rng, PATHS.includes(path as never) ? path : rng.pick(PATHS), ctx, state);
  let body: Buffer;
  switch (bodyKind) {
    case 'valid':
      body = Buffer.from(encodeCbor(req()));
      break;
    case 'fields': {
      let r = req();
      for (let n = rng.int(1, 3); n > 0; n--) r = mutateRequest(rng, r);
      body = Buffer.from(encodeCbor(r));
      break;
    }
    case 'bytes-mutated':
      body = mutateBytes(rng, encodeCbor(req()), 4);
      break;
    case 'hostile-cbor':
      body = hostileCbor(rng);
      break;
    case 'random-bytes':
      body = rng.bytes(rng.size(2048));
      break;
    case 'empty':
      body = Buffer.alloc(0);
      break;
    default:
      body = rng.bytes(rng.int(130_000, 260_000));
  }
  const tokenKind =
    focus === 'body'
      ? 'valid'
      : rng.weighted<string>([
          [10, 'other-body'],
          [8, 'other-path'],
          [8, 'other-audience'],
          [22, 'mutated'],
          [30, 'crafted'],
          [14, 'garbage'],
          [8, 'none'],
        ]);
  const sign = (audience: string, p: string, b: Uint8Array) => `Bearer ${ctx.tokens.sign({ audience, path: p, body: b })}`;
  let authorization: string | undefined;
  switch (tokenKind) {
    case 'valid':
      authorization = sign(ctx.signerId, path, body);
      state.sent.push({ path, authorization, body });
      if (state.sent.length > 200) state.sent.shift();
      break;
    case 'other-body':
      authorization = sign(ctx.signerId, path, mutateBytes(rng, body.length ? body : Buffer.from([0]), 1));
      break;
    case 'other-path':
      authorization = sign(ctx.signerId, rng.pick(PATHS.filter((p) => p !== path)), body);
      break;
    case 'other-audience':
      authorization = sign(ctx.otherSignerId, path, body);
      break;
    case 'mutated':
      authorization = mutateToken(rng, sign(ctx.signerId, path, body));
      break;
    case 'crafted':
      authorization = craftedToken(rng, ctx, path, body);
      break;
    case 'garbage':
      authorization = garbageToken(rng);
      break;
    default:
      authorization = undefined;
  }
  const type = rng.chance(0.93) ? CBOR_CONTENT_TYPE : rng.pick(['application/json', 'application/cbor; charset=utf-8', 'APPLICATION/CBOR', 'application/octet-stream', '']);
  const method = rng.chance(0.96) ? 'POST' : rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
  const headers: Record<string, string> = { ...(type ? { 'content-type': type } : {}), ...(authorization !== undefined ? { authorization } : {}) };
  return { kind: `${bodyKind}/${tokenKind}`, method, path, headers, body: method === 'GET' ? Buffer.alloc(0) : body };
}
