// The signer's one status table and the mapping of every error it can meet to a documented wire code.
import { describe, expect, it } from '@jest/globals';
import { FrostError, IdentityCommitmentError, InvalidPointError, NonceReuseError, errorClasses as frostErrorClasses } from '@hoarfrost/frost';
import { InvalidArgumentError, SIGNER_ERROR_CODES, SignerCallError, TokenError, WireFormatError, isSignerErrorCode, type SignerErrorCode, type SignerErrorKind } from '@hoarfrost/rpc';
import { BodyError, ClientAuthError, ConfigError } from '@hoarfrost/runtime';
import { STATUS, SignerError, toWireRefusal } from '../src/errors.js';

const codes = Object.keys(SIGNER_ERROR_CODES) as SignerErrorCode[];

/** What each kind of refusal may answer with (the kinds are documented with SIGNER_ERROR_CODES). */
const STATUSES_BY_KIND: Record<SignerErrorKind, readonly number[]> = {
  auth: [401, 403],
  request: [400, 404, 405, 408, 413, 415],
  package: [400, 404, 409],
  stale: [409],
  policy: [403],
  unavailable: [503],
  internal: [500],
};

const SECRET = 'signing share 0x1234 at /etc/frost/keys';

describe('STATUS', () => {
  it('has a status for exactly the documented codes', () => {
    expect(Object.keys(STATUS).sort()).toEqual([...codes].sort());
  });

  it.each(codes)('%s has the status of its kind', (code) => {
    expect(STATUSES_BY_KIND[SIGNER_ERROR_CODES[code]]).toContain(STATUS[code]);
  });

  it('tells a missing credential (401) from a refused one (403)', () => {
    for (const code of codes.filter((c) => c.startsWith('TOKEN_'))) expect(STATUS[code]).toBe(401);
    expect(STATUS.CLIENT_CERT_REQUIRED).toBe(401);
    expect(STATUS.CLIENT_CERT_UNTRUSTED).toBe(403);
    expect(STATUS.CLIENT_IDENTITY_NOT_ALLOWED).toBe(403);
  });

  it('answers a stale commitment with 409, so a coordinator drops it and asks again', () => {
    expect(STATUS.UNKNOWN_COMMITMENT).toBe(409);
    expect(STATUS.COMMITMENT_EXPIRED).toBe(409);
    expect(STATUS.COMMITMENT_ALREADY_USED).toBe(409);
  });
});

describe('toWireRefusal', () => {
  it.each(codes)('a SignerError %s keeps its code, status and message', (code) => {
    const r = toWireRefusal(new SignerError(code, `refused: ${code}`));
    expect(r).toEqual({
      code,
      status: STATUS[code],
      // INTERNAL never carries the original message, whoever raised it.
      message: code === 'INTERNAL' ? 'internal error' : `refused: ${code}`,
      unexpected: code === 'INTERNAL',
    });
  });

  it.each([
    ['TOKEN_EXPIRED', 401],
    ['TOKEN_WRONG_AUDIENCE', 401],
    ['TOKEN_REPLAYED', 401],
    ['REPLAY_CACHE_FULL', 503],
  ] as const)('a TokenError %s is answered with %i', (code, status) => {
    expect(toWireRefusal(new TokenError(code, 'token refused'))).toEqual({ code, status, message: 'token refused', unexpected: false });
  });

  it.each([['MALFORMED_CBOR'], ['INVALID_REQUEST']] as const)('a WireFormatError %s is a 400', (code) => {
    expect(toWireRefusal(new WireFormatError(code, 'bad body'))).toEqual({ code, status: 400, message: 'bad body', unexpected: false });
  });

  it.each([
    ['CLIENT_CERT_REQUIRED', 401],
    ['CLIENT_CERT_UNTRUSTED', 403],
    ['CLIENT_IDENTITY_NOT_ALLOWED', 403],
  ] as const)('a ClientAuthError %s is answered with %i', (code, status) => {
    expect(toWireRefusal(new ClientAuthError(code, 'mTLS refused'))).toEqual({ code, status, message: 'mTLS refused', unexpected: false });
  });

  it('a BodyError is PAYLOAD_TOO_LARGE (413), for a broken stream INVALID_REQUEST (400), for a slow one REQUEST_TIMEOUT (408)', () => {
    expect(toWireRefusal(new BodyError('PAYLOAD_TOO_LARGE', 'too big'))).toEqual({ code: 'PAYLOAD_TOO_LARGE', status: 413, message: 'too big', unexpected: false });
    expect(toWireRefusal(new BodyError('BODY_UNREADABLE', 'broken'))).toEqual({ code: 'INVALID_REQUEST', status: 400, message: 'broken', unexpected: false });
    expect(toWireRefusal(new BodyError('BODY_TIMEOUT', 'slow'))).toEqual({ code: 'REQUEST_TIMEOUT', status: 408, message: 'slow', unexpected: false });
  });

  it('a group commitment equal to the identity is a bad signing package (400), an expected refusal', () => {
    const r = toWireRefusal(new IdentityCommitmentError('the group commitment is the identity element'));
    expect(r).toEqual({ code: 'IDENTITY_COMMITMENT', status: 400, message: 'the group commitment is the identity element', unexpected: false });
  });

  it('a FrostError with a documented code keeps it', () => {
    expect(toWireRefusal(new InvalidPointError('element is the identity'))).toEqual({ code: 'INVALID_POINT', status: 400, message: 'element is the identity', unexpected: false });
  });

  it('a FrostError with an undocumented code is a bad signing package, not an internal error', () => {
    const r = toWireRefusal(new NonceReuseError('signing nonces were already used'));
    expect(r).toEqual({ code: 'INVALID_SIGNING_PACKAGE', status: 400, message: 'signing nonces were already used', unexpected: false });
  });

  it.each(frostErrorClasses.map((C) => [C.name, C] as const))('every FrostError class (%s) maps to a documented package code', (_name, C) => {
    const e = new C('x');
    const r = toWireRefusal(e);
    expect(r.code).toBe(isSignerErrorCode(e.code) ? e.code : 'INVALID_SIGNING_PACKAGE');
    expect(SIGNER_ERROR_CODES[r.code]).toBe('package');
    expect(r.unexpected).toBe(false);
  });

  it('the FrostError base class (code FROST_ERROR) is a bad signing package too', () => {
    expect(toWireRefusal(new FrostError('x')).code).toBe('INVALID_SIGNING_PACKAGE');
  });

  it.each([
    ['a plain Error', new Error(SECRET)],
    ['a TypeError', new TypeError(SECRET)],
    ['an RpcError with an undocumented code', new InvalidArgumentError(SECRET)],
    ['a SignerCallError (a client-side failure)', new SignerCallError('signer-2', 'SIGNER_TIMEOUT', SECRET)],
    ['a runtime ConfigError', new ConfigError(SECRET)],
    ['an Error whose code looks documented', Object.assign(new Error(SECRET), { code: 'UNKNOWN_KEY' })],
    ['a string', SECRET],
    ['a look-alike object', { code: 'UNKNOWN_KEY', message: SECRET }],
    ['undefined', undefined],
    ['null', null],
  ])('%s is INTERNAL, with no trace of the original message', (_name, err) => {
    const r = toWireRefusal(err);
    expect(r).toEqual({ code: 'INTERNAL', status: 500, message: 'internal error', unexpected: true });
    expect(JSON.stringify(r)).not.toContain('0x1234');
  });

  it('never answers with a code outside the documented set', () => {
    const samples: unknown[] = [
      ...codes.map((c) => new SignerError(c, 'm')),
      ...frostErrorClasses.map((C) => new C('m')),
      new BodyError('BODY_UNREADABLE', 'm'),
      new TokenError('REPLAY_CACHE_FULL', 'm'),
      new Error('m'),
      42,
    ];
    for (const e of samples) {
      const r = toWireRefusal(e);
      expect(isSignerErrorCode(r.code)).toBe(true);
      expect(r.status).toBe(STATUS[r.code]);
    }
  });
});
