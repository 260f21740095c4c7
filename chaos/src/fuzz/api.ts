/**
 * Fuzzed requests on the coordinator's public API: sign requests mutated field by field and byte by
 * byte, random JSON, random bytes, broken base64, edge numbers, wrong content types, random paths and
 * methods, missing or wrong client certificates and bogus Authorization headers. Bodies stay well
 * under the body limit (oversized messages are their own scenario).
 * @module
 */
import { Readable } from 'node:stream';
import type { ParticipantId } from '../client.js';
import type { Rng } from '../rng.js';
import { mutateBytes, oddNumber, oddNumberLiteral, oddString, randomJson } from './values.js';

/** Which client certificate the request goes out with. */
export type ApiIdentity = 'caller' | 'none' | 'wrong';

export interface ApiCase {
  kind: string;
  identity: ApiIdentity;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer | Readable;
}

export interface ApiFuzzContext {
  participants: ParticipantId[];
  signerUrls: string[];
}

const JSON_TYPE = { 'content-type': 'application/json' };

function validBody(rng: Rng, ctx: ApiFuzzContext): Record<string, unknown> {
  const body: Record<string, unknown> = { msg_b64: rng.bytes(rng.size(512)).toString(rng.chance(0.8) ? 'base64' : 'base64url') };
  if (rng.chance(0.2)) body.participants = [...ctx.participants].sort(() => rng.float() - 0.5).slice(0, rng.int(2, ctx.participants.length));
  else if (rng.chance(0.1)) body.signer_urls = [...ctx.signerUrls].sort(() => rng.float() - 0.5).slice(0, rng.int(2, ctx.signerUrls.length));
  return body;
}

function brokenBase64(rng: Rng): string {
  const good = rng.bytes(rng.int(1, 64)).toString('base64');
  return rng.pick([
    () => good.replace(/=+$/, '') + '=',
    () => good + '==',
    () => '=' + good,
    () => good.slice(0, Math.max(1, good.length - 1)).replace(/=+$/, '') + (good.length % 4 === 1 ? '' : 'A').repeat(1) + '====',
    () => good.replace(/[A-Z]/, '-'),
    () => good.replace(/[a-z]/, '+').replace(/[A-Z]/, '_'),
    () => good.slice(0, 2) + ' ' + good.slice(2),
    () => good.slice(0, 2) + '\n' + good.slice(2),
    () => good.slice(0, 1),
    () => good.slice(0, 5),
    () => good.replace(/.$/, '!'),
    () => 'aGl=',
    () => '\u00e9' + good,
    () => oddString(rng),
  ])();
}

function mutateField(rng: Rng, body: Record<string, unknown>, ctx: ApiFuzzContext): void {
  switch (rng.int(0, 8)) {
    case 0:
      body[rng.chance(0.5) ? oddString(rng).slice(0, 40) : rng.pick(['key_id', 'message', 'msg', 'participant', 'signer_url', 'MSG_B64'])] = randomJson(rng, 2);
      break;
    case 1:
      delete body.msg_b64;
      break;
    case 2:
      body.msg_b64 = randomJson(rng, 2);
      break;
    case 3:
      body.msg_b64 = brokenBase64(rng);
      break;
    case 4:
      body.participants = rng.pick<() => unknown>([
        () => randomJson(rng, 2),
        () => Array.from({ length: rng.size(6) }, () => oddNumber(rng)),
        () => [ctx.participants[0], ctx.participants[0]],
        () => [ctx.participants.length + 1, ctx.participants.length + 2],
        () => [rng.bytes(32).toString('hex'), rng.bytes(32).toString('hex')],
        () => Array.from({ length: rng.int(4, 300) }, (_, i) => i + 1),
        () => ctx.participants.map(String),
        () => [[1, 2]],
      ])();
      break;
    case 5:
      body.signer_urls = rng.pick<() => unknown>([
        () => randomJson(rng, 2),
        () => ['http://169.254.169.254/latest/meta-data/', 'file:///etc/passwd'],
        () => ctx.signerUrls.map((u) => u + '/v1/round2'),
        () => ctx.signerUrls.map((u) => u.replace('https://', 'https://user:pw@')),
        () => ctx.signerUrls.map((u) => u.toUpperCase()),
        () => ['https://127.0.0.1:1', 'https://localhost:1'],
        () => Array.from({ length: rng.pick([999, 1000, 1001]) }, () => ctx.signerUrls[0]),
        () => [ctx.signerUrls[0], ctx.signerUrls[0]],
        () => [],
      ])();
      break;
    case 6:
      body.participants = validBody(rng, ctx).participants ?? ctx.participants.slice(0, 2);
      body.signer_urls = ctx.signerUrls.slice(0, 2);
      break;
    case 7:
      body.msg_b64 = '';
      break;
    default:
      body.msg_b64 = rng.bytes(rng.size(6000)).toString('base64');
  }
}

/** JSON text with number literals JSON.stringify would never write. */
function numberText(rng: Rng, ctx: ApiFuzzContext): string {
  const lit = () => oddNumberLiteral(rng);
  return rng.pick([
    () => `{"msg_b64":"aGk","participants":[${lit()},${lit()}]}`,
    () => `{"msg_b64":"aGk","participants":[${ctx.participants[0]},${lit()}]}`,
    () => `{"msg_b64":${lit()}}`,
    () => `{"msg_b64":"aGk","participants":${lit()}}`,
    () => `{"msg_b64":"aGk","__proto__":{"participants":[1,2]}}`,
    () => `{"msg_b64":"aGk","msg_b64":"aGk="}`,
    () => `{"msg_b64":"aGk","constructor":{"prototype":{"x":1}}}`,
  ])();
}

/** `body` as a stream of `pieces` chunks: sent with Transfer-Encoding: chunked. */
function chunked(body: Buffer, pieces: number): Readable {
  const size = Math.max(1, Math.ceil(body.length / pieces));
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) parts.push(body.subarray(i, i + size));
  return Readable.from(parts);
}

/** One fuzzed request. */
export function apiCase(rng: Rng, ctx: ApiFuzzContext): ApiCase {
  const base = (kind: string, body: ApiCase['body'], headers: Record<string, string> = JSON_TYPE): ApiCase => ({ kind, identity: 'caller', method: 'POST', path: rng.pick(['/sign', '/v1/sign']), headers, body });
  const kind = rng.weighted<string>([
    [30, 'fields'],
    [10, 'random-json'],
    [15, 'text-mutated'],
    [4, 'random-bytes'],
    [2, 'deep-nesting'],
    [5, 'numbers'],
    [8, 'base64'],
    [7, 'content-type'],
    [6, 'path'],
    [5, 'method'],
    [5, 'auth'],
    [3, 'chunked'],
  ]);
  switch (kind) {
    case 'fields': {
      const body = validBody(rng, ctx);
      for (let n = rng.int(0, 3); n > 0; n--) mutateField(rng, body, ctx);
      return base(kind, JSON.stringify(body));
    }
    case 'random-json':
      return base(kind, JSON.stringify(randomJson(rng, 5)) ?? 'null');
    case 'text-mutated':
      return base(kind, mutateBytes(rng, Buffer.from(JSON.stringify(validBody(rng, ctx))), 6));
    case 'random-bytes':
      return base(kind, rng.bytes(rng.size(4096)));
    case 'deep-nesting': {
      const n = rng.int(1000, 60_000);
      const [open, close] = rng.pick([['[', ']'], ['{"a":', '}']] as const);
      return base(kind, open.repeat(n) + '1' + close.repeat(rng.chance(0.8) ? n : rng.int(0, n)));
    }
    case 'numbers':
      return base(kind, numberText(rng, ctx));
    case 'base64':
      return base(kind, JSON.stringify({ msg_b64: brokenBase64(rng) }));
    case 'content-type': {
      const type = rng.pick([
        'text/plain',
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'application/json;charset=utf-16',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/jsonp',
        'application/json, text/plain',
        ' application/json ',
        'application/cbor',
        '*/*',
        oddString(rng).replace(/[\r\n\u0000-\u001f\u007f-\uffff]/g, ''),
      ]);
      return base(kind, JSON.stringify(validBody(rng, ctx)), type ? { 'content-type': type } : {});
    }
    case 'path': {
      const path = rng.pick([
        '/',
        '/sign/',
        '/SIGN',
        '/sign?x=1',
        '/sign#x',
        '/v1/sign/batch',
        '/v1/jws',
        '/v1/keys',
        '/.well-known/jwks.json',
        '/%2e%2e/sign',
        '/sign%00',
        '/v2/sign',
        '/metrics',
        '/readyz',
        '/healthz',
        '/openapi.json',
        '/' + 'a'.repeat(rng.size(6000)),
        '/' + [...Buffer.from(oddString(rng).slice(0, 100))].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
      ]);
      return { ...base(kind, JSON.stringify(validBody(rng, ctx))), path };
    }
    case 'method': {
      const method = rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'FOO', 'PROPFIND']);
      const c = base(kind, JSON.stringify(validBody(rng, ctx)));
      return method === 'GET' || method === 'HEAD' ? { kind, identity: 'caller', method, path: rng.pick(['/sign', '/', '/readyz', '/v1/keys']), headers: {} } : { ...c, method };
    }
    case 'auth': {
      const c = base(kind, JSON.stringify(validBody(rng, ctx)));
      const identity = rng.pick<ApiIdentity>(['none', 'wrong', 'caller']);
      const authorization = rng.pick(['Bearer ', 'Bearer x.y.z', 'Basic YTpi', 'bearer ' + rng.bytes(40).toString('base64url'), 'Bearer ' + 'A'.repeat(rng.size(8000)), oddString(rng).replace(/[\r\n\u0000-\u001f\u007f-\uffff]/g, '')]);
      return { ...c, identity, headers: { ...c.headers, ...(rng.chance(0.7) ? { authorization } : {}) } };
    }
    default: {
      const body = Buffer.from(JSON.stringify(validBody(rng, ctx)));
      return base('chunked', chunked(rng.chance(0.7) ? body : mutateBytes(rng, body), rng.int(2, 8)));
    }
  }
}
