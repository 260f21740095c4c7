import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { CompactSign, FlattenedSign, SignJWT, UnsecuredJWT, createLocalJWKSet, jwtVerify } from 'jose';
import { InvalidArgumentError, TokenError } from '../src/errors.js';
import { DEFAULT_MAX_REPLAY_ENTRIES } from '../src/replay-cache.js';
import {
  MAX_TOKEN_LIFETIME_SECONDS,
  RPC_TOKEN_TYPE,
  RpcTokenSigner,
  RpcTokenVerifier,
  bodyHash,
  loadEd25519PrivateKey,
  parseJwks,
  publicJwk,
  type JwkSet,
} from '../src/tokens.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const jwks: JwkSet = { keys: [publicJwk(privateKey, 'k1')] };
const signer = new RpcTokenSigner({ privateKey, kid: 'k1', issuer: 'coord' });
const body = new TextEncoder().encode('body bytes');
const PATH = '/v1/round2';
const verifier = (options: { clockToleranceSeconds?: number; maxReplayEntries?: number } = {}) =>
  new RpcTokenVerifier({ jwks, issuer: 'coord', audience: 'signer-1', ...options });

const b64url = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** The TokenError `fn` throws (fails the test when it throws nothing or something else). */
function tokenError(fn: () => unknown): TokenError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TokenError);
    return e as TokenError;
  }
  throw new Error('expected a TokenError, nothing was thrown');
}

/** A valid token minted with jose, with claims and header members overridden (undefined deletes). */
async function joseToken(
  overrides: { claims?: Record<string, unknown>; header?: Record<string, unknown>; key?: KeyObject | Uint8Array } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    bsh: bodyHash(body),
    htu: PATH,
    iss: 'coord',
    aud: 'signer-1',
    iat: now,
    exp: now + 30,
    jti: 'j'.repeat(22),
    ...overrides.claims,
  };
  const header: Record<string, unknown> = { alg: 'EdDSA', typ: RPC_TOKEN_TYPE, kid: 'k1', ...overrides.header };
  for (const o of [claims, header]) for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return new SignJWT(claims).setProtectedHeader(header as never).sign(overrides.key ?? privateKey);
}

/** A token signed by hand with node:crypto: for headers jose refuses to produce (crit, unknown members). */
function handToken(header: unknown, payload: unknown, key: KeyObject = privateKey): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${nodeSign(null, Buffer.from(input), key).toString('base64url')}`;
}

function validClaims(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { bsh: bodyHash(body), htu: PATH, iss: 'coord', aud: 'signer-1', iat: now, exp: now + 30, jti: 'h'.repeat(22) };
}

describe('RPC tokens: interoperability with jose', () => {
  it('our tokens are standard JWTs that jose verifies with the same constraints', async () => {
    const token = signer.sign({ audience: 'signer-1', path: PATH, body });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
      algorithms: ['EdDSA'],
      issuer: 'coord',
      audience: 'signer-1',
      typ: RPC_TOKEN_TYPE,
      maxTokenAge: 60,
    });
    expect(protectedHeader.kid).toBe('k1');
    expect(payload.bsh).toBe(bodyHash(body));
    expect(payload.htu).toBe(PATH);
    expect((payload.exp as number) - (payload.iat as number)).toBeLessThanOrEqual(60);
  });

  it('the verifier accepts a jose-minted token, returns its claims and refuses its replay', async () => {
    const token = await joseToken({ claims: { jti: 'a'.repeat(22) } });
    const v = verifier();
    const claims = v.verify(`Bearer ${token}`, { path: PATH, body });
    expect(claims).toMatchObject({ iss: 'coord', aud: 'signer-1', jti: 'a'.repeat(22), kid: 'k1' });
    expect(claims.exp - claims.iat).toBe(30);
    expect(tokenError(() => v.verify(`Bearer ${token}`, { path: PATH, body })).code).toBe('TOKEN_REPLAYED');
  });

  it('accepts the fully-specified alg "Ed25519" as well as "EdDSA"', () => {
    const token = handToken({ alg: 'Ed25519', typ: RPC_TOKEN_TYPE, kid: 'k1' }, validClaims());
    expect(verifier().verify(`Bearer ${token}`, { path: PATH, body }).kid).toBe('k1');
  });

  it('accepts an audience array that contains this signer', async () => {
    const token = await joseToken({ claims: { aud: ['signer-9', 'signer-1'] } });
    expect(verifier().verify(`Bearer ${token}`, { path: PATH, body }).aud).toBe('signer-1');
  });
});

describe('RPC tokens: adversarial tokens are refused with stable codes', () => {
  it('alg "none" (an unsecured JWT) → TOKEN_ALG_NOT_ALLOWED', () => {
    const token = new UnsecuredJWT(validClaims()).encode();
    expect(token.endsWith('.')).toBe(true);
    expect(tokenError(() => verifier().verify(`Bearer ${token}`, { path: PATH, body })).code).toBe('TOKEN_ALG_NOT_ALLOWED');
  });

  it('HS256 keyed with the public key (algorithm confusion) → TOKEN_ALG_NOT_ALLOWED', async () => {
    const jwk = jwks.keys[0]!;
    for (const secret of [Buffer.from(jwk.x!, 'base64url'), new TextEncoder().encode(JSON.stringify(jwk))]) {
      const token = await joseToken({ header: { alg: 'HS256' }, key: secret });
      expect(tokenError(() => verifier().verify(`Bearer ${token}`, { path: PATH, body })).code).toBe('TOKEN_ALG_NOT_ALLOWED');
    }
  });

  it('another asymmetric algorithm (ES256) → TOKEN_ALG_NOT_ALLOWED', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = await joseToken({ header: { alg: 'ES256' }, key: ec.privateKey });
    expect(tokenError(() => verifier().verify(`Bearer ${token}`, { path: PATH, body })).code).toBe('TOKEN_ALG_NOT_ALLOWED');
  });

  it.each([
    ['a plain JWT typ', { typ: 'JWT' }],
    ['no typ', { typ: undefined }],
  ])('%s → TOKEN_WRONG_TYPE', async (_what, header) => {
    const token = await joseToken({ header });
    expect(tokenError(() => verifier().verify(`Bearer ${token}`, { path: PATH, body })).code).toBe('TOKEN_WRONG_TYPE');
  });

  it.each([
    ['an unknown kid', { kid: 'k2' }],
    ['no kid', { kid: undefined }],
    ['a numeric kid', { kid: 1 }],
  ])('%s → TOKEN_UNKNOWN_KEY', async (_what, header) => {
    const token = await joseToken({ header });
    expect(tokenError(() => verifier().verify(`Bearer ${token}`, { path: PATH, body })).code).toBe('TOKEN_UNKNOWN_KEY');
  });

  it('a key embedded in the header (jwk) is refused, even when it signed the token → TOKEN_INVALID', async () => {
    const token = await joseToken({ header: { jwk: publicJwk(other.privateKey, 'k1') }, key: other.privateKey });
    expect(tokenError(() => verifier().verify(`Bearer ${token}`, { path: PATH, body })).code).toBe('TOKEN_INVALID');
  });

  it('an unencoded payload (b64: false, RFC 7797) minted by jose → TOKEN_INVALID', async () => {
    const header = { alg: 'EdDSA', typ: RPC_TOKEN_TYPE, kid: 'k1', b64: false, crit: ['b64'] };
    const claims = JSON.stringify(validClaims());
    // Signed over the raw claims (RFC 7797); the compact form carries them base64url-encoded anyway.
    const jws = await new FlattenedSign(new TextEncoder().encode(claims)).setProtectedHeader(header).sign(privateKey);
    const token = `${jws.protected}.${b64url(claims)}.${jws.signature}`;
    expect(tokenError(() => verifier().verify(`Bearer ${token}`, { path: PATH, body })).code).toBe('TOKEN_INVALID');
  });

  it.each([
    ['crit', { crit: ['exp'] }],
    ['jku', { jku: 'https://evil.example/jwks' }],
    ['x5u', { x5u: 'https://evil.example/cert' }],
  ])('a header with %s → TOKEN_INVALID, even correctly signed', (_what, extra) => {
    const token = handToken({ alg: 'EdDSA', typ: RPC_TOKEN_TYPE, kid: 'k1', ...extra }, validClaims());
    expect(tokenError(() => verifier().verify(`Bearer ${token}`, { path: PATH, body })).code).toBe('TOKEN_INVALID');
  });

  it('a token signed by another Ed25519 key under the pinned kid → TOKEN_BAD_SIGNATURE', async () => {
    const token = await joseToken({ key: other.privateKey });
    expect(tokenError(() => verifier().verify(`Bearer ${token}`, { path: PATH, body })).code).toBe('TOKEN_BAD_SIGNATURE');
  });

  it('a signature of the wrong length (truncated, empty or padded) → TOKEN_BAD_SIGNATURE', async () => {
    const token = await joseToken();
    const [h, p, sig] = token.split('.') as [string, string, string];
    const raw = Buffer.from(sig, 'base64url');
    for (const s of [raw.subarray(0, 63), Buffer.alloc(0), Buffer.concat([raw, Buffer.from([0])])]) {
      const t = `${h}.${p}.${s.toString('base64url')}`;
      expect(tokenError(() => verifier().verify(`Bearer ${t}`, { path: PATH, body })).code).toBe('TOKEN_BAD_SIGNATURE');
    }
  });

  it('a header or payload that is not a JSON object → TOKEN_INVALID', async () => {
    const v = verifier();
    for (const header of ['[1]', 'null', 'not json', '"EdDSA"']) {
      const t = `${b64url(header)}.${b64url(validClaims())}.${'A'.repeat(86)}`;
      expect(tokenError(() => v.verify(`Bearer ${t}`, { path: PATH, body })).code).toBe('TOKEN_INVALID');
    }
    // A correctly signed token whose payload is an array, minted by jose's generic JWS API.
    for (const payload of ['[1,2]', 'not json', '42']) {
      const t = await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'EdDSA', typ: RPC_TOKEN_TYPE, kid: 'k1' }).sign(privateKey);
      expect(tokenError(() => v.verify(`Bearer ${t}`, { path: PATH, body })).code).toBe('TOKEN_INVALID');
    }
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
  ])('an authorization header that is %s → TOKEN_MISSING', (_what, value) => {
    expect(tokenError(() => verifier().verify(value, { path: PATH, body })).code).toBe('TOKEN_MISSING');
  });

  it('an authorization header that is not "Bearer <jws>" → TOKEN_MALFORMED', async () => {
    const token = await joseToken();
    const [h, p, s] = token.split('.') as [string, string, string];
    const bad = [
      `Basic ${token}`,
      `bearer ${token}`,
      `Bearer  ${token}`,
      `Bearer ${token} `,
      `Bearer ${h}.${p}`,
      `Bearer ${token}.${s}`,
      `Bearer ${h}.${p}.${s.slice(0, 10)}+/${s.slice(12)}`,
      'Bearer',
      `Bearer ${h}.${p}${'A'.repeat(4096)}.${s}`,
    ];
    for (const authorization of bad) expect(tokenError(() => verifier().verify(authorization, { path: PATH, body })).code).toBe('TOKEN_MALFORMED');
  });

  describe('claims', () => {
    // Time is fixed so that checks at a boundary cannot flip with the wall clock's second.
    const NOW = 1_900_000_000;
    let clock: ReturnType<typeof jest.spyOn>;
    beforeEach(() => {
      clock = jest.spyOn(Date, 'now').mockReturnValue(NOW * 1000 + 500);
    });
    afterEach(() => clock.mockRestore());

    const verifyWith = async (claims: Record<string, unknown>, v = verifier(), args = { path: PATH, body }) =>
      v.verify(`Bearer ${await joseToken({ claims })}`, args);
    const codeOf = async (claims: Record<string, unknown>, v = verifier(), args = { path: PATH, body }): Promise<string> => {
      try {
        await verifyWith(claims, v, args);
      } catch (e) {
        expect(e).toBeInstanceOf(TokenError);
        return (e as TokenError).code;
      }
      throw new Error('expected a TokenError, the token was accepted');
    };

    it.each(['iss', 'iat', 'exp', 'jti', 'bsh', 'htu'])('a token without %s → TOKEN_CLAIM_INVALID', async (claim) => {
      expect(await codeOf({ [claim]: undefined })).toBe('TOKEN_CLAIM_INVALID');
    });

    it('claims of the wrong type → TOKEN_CLAIM_INVALID', async () => {
      expect(await codeOf({ iat: String(NOW) })).toBe('TOKEN_CLAIM_INVALID');
      expect(await codeOf({ exp: String(NOW + 30) })).toBe('TOKEN_CLAIM_INVALID');
      expect(await codeOf({ jti: 12345678901234567 })).toBe('TOKEN_CLAIM_INVALID');
      expect(await codeOf({ bsh: null })).toBe('TOKEN_CLAIM_INVALID');
    });

    it('another issuer → TOKEN_WRONG_ISSUER', async () => {
      expect(await codeOf({ iss: 'someone-else' })).toBe('TOKEN_WRONG_ISSUER');
    });

    it('another, or no, audience → TOKEN_WRONG_AUDIENCE', async () => {
      expect(await codeOf({ aud: 'signer-2' })).toBe('TOKEN_WRONG_AUDIENCE');
      expect(await codeOf({ aud: ['signer-2', 'signer-3'] })).toBe('TOKEN_WRONG_AUDIENCE');
      expect(await codeOf({ aud: undefined })).toBe('TOKEN_WRONG_AUDIENCE');
    });

    it('expired beyond the clock tolerance, or issued too long ago → TOKEN_EXPIRED', async () => {
      expect(await codeOf({ iat: NOW - 40, exp: NOW - 10 })).toBe('TOKEN_EXPIRED');
      expect(await codeOf({ iat: NOW - 70, exp: NOW + 10 })).toBe('TOKEN_EXPIRED');
    });

    it('the clock tolerance (default 5 s) applies to exp', async () => {
      expect((await verifyWith({ iat: NOW - 30, exp: NOW - 2 })).exp).toBe(NOW - 2);
      expect(await codeOf({ iat: NOW - 30, exp: NOW - 2 }, verifier({ clockToleranceSeconds: 0 }))).toBe('TOKEN_EXPIRED');
    });

    it('issued in the future or not valid before a future nbf → TOKEN_INVALID', async () => {
      expect(await codeOf({ iat: NOW + 30, exp: NOW + 60 })).toBe('TOKEN_INVALID');
      expect(await codeOf({ nbf: NOW + 30 })).toBe('TOKEN_INVALID');
      // Within the tolerance both are fine.
      expect((await verifyWith({ iat: NOW + 3, exp: NOW + 30, nbf: NOW + 3 })).iat).toBe(NOW + 3);
    });

    it(`a lifetime over ${MAX_TOKEN_LIFETIME_SECONDS} s → TOKEN_LIFETIME_TOO_LONG`, async () => {
      expect(await codeOf({ iat: NOW, exp: NOW + MAX_TOKEN_LIFETIME_SECONDS + 1 })).toBe('TOKEN_LIFETIME_TOO_LONG');
      expect(await codeOf({ iat: NOW - 20, exp: NOW + 3600 })).toBe('TOKEN_LIFETIME_TOO_LONG');
      expect((await verifyWith({ iat: NOW, exp: NOW + MAX_TOKEN_LIFETIME_SECONDS })).exp).toBe(NOW + MAX_TOKEN_LIFETIME_SECONDS);
    });

    it('a token for another RPC path → TOKEN_PATH_MISMATCH', async () => {
      expect(await codeOf({}, verifier(), { path: '/v1/round1', body })).toBe('TOKEN_PATH_MISMATCH');
    });

    it('a token for another body → TOKEN_BODY_MISMATCH', async () => {
      expect(await codeOf({}, verifier(), { path: PATH, body: new TextEncoder().encode('body bytez') })).toBe('TOKEN_BODY_MISMATCH');
      expect(await codeOf({}, verifier(), { path: PATH, body: new Uint8Array(0) })).toBe('TOKEN_BODY_MISMATCH');
    });

    it('a jti shorter than 16 or longer than 128 characters → TOKEN_INVALID', async () => {
      expect(await codeOf({ jti: 'x'.repeat(15) })).toBe('TOKEN_INVALID');
      expect(await codeOf({ jti: 'x'.repeat(129) })).toBe('TOKEN_INVALID');
      expect((await verifyWith({ jti: 'x'.repeat(16) })).jti).toHaveLength(16);
      expect((await verifyWith({ jti: 'y'.repeat(128) })).jti).toHaveLength(128);
    });

    it('replay protection: each jti once per verifier, while the token lives', async () => {
      const v = verifier();
      await verifyWith({ jti: 'r'.repeat(20) }, v);
      expect(await codeOf({ jti: 'r'.repeat(20) }, v)).toBe('TOKEN_REPLAYED');
      // Another jti is fine, and another verifier (another signer) has its own cache.
      await verifyWith({ jti: 's'.repeat(20) }, v);
      await verifyWith({ jti: 'r'.repeat(20) }, verifier());
    });

    it('a full replay cache refuses new tokens with REPLAY_CACHE_FULL until the entries expire', async () => {
      const v = verifier({ maxReplayEntries: 1 });
      await verifyWith({ jti: 'a'.repeat(20), iat: NOW, exp: NOW + 30 }, v);
      expect(await codeOf({ jti: 'b'.repeat(20), iat: NOW, exp: NOW + 30 }, v)).toBe('REPLAY_CACHE_FULL');
      // Past exp + tolerance the first entry is swept and there is room again.
      clock.mockReturnValue((NOW + 40) * 1000);
      await verifyWith({ jti: 'b'.repeat(20), iat: NOW + 40, exp: NOW + 70 }, v);
    });

    it('a long-lived token does not keep expired shorter-lived ones in the cache (expiry order, not arrival order)', async () => {
      const v = verifier({ maxReplayEntries: 2 });
      await verifyWith({ jti: 'l'.repeat(20), iat: NOW, exp: NOW + 60 }, v);
      await verifyWith({ jti: 's'.repeat(20), iat: NOW, exp: NOW + 1 }, v);
      expect(await codeOf({ jti: 't'.repeat(20), iat: NOW, exp: NOW + 30 }, v)).toBe('REPLAY_CACHE_FULL');
      // The short token has expired (exp + 5 s tolerance): its entry leaves although an older one lives on.
      clock.mockReturnValue((NOW + 10) * 1000);
      await verifyWith({ jti: 't'.repeat(20), iat: NOW + 10, exp: NOW + 40 }, v);
      expect(await codeOf({ jti: 'l'.repeat(20), iat: NOW, exp: NOW + 60 }, v)).toBe('TOKEN_REPLAYED');
    });

    it(`keeps at most ${DEFAULT_MAX_REPLAY_ENTRIES} live token ids by default, and maxReplayEntries is validated`, () => {
      expect(DEFAULT_MAX_REPLAY_ENTRIES).toBe(200_000);
      expect(() => verifier({ maxReplayEntries: 0 })).toThrow(InvalidArgumentError);
      expect(() => verifier({ maxReplayEntries: 1.5 })).toThrow(InvalidArgumentError);
    });
  });
});

describe('RpcTokenSigner', () => {
  it('sign is synchronous and binds audience, path and the exact body', () => {
    const token = signer.sign({ audience: 'signer-7', path: '/v1/round1', body });
    expect(typeof token).toBe('string');
    const [h, p] = token.split('.') as [string, string];
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'EdDSA', typ: RPC_TOKEN_TYPE, kid: 'k1' });
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ iss: 'coord', aud: 'signer-7', htu: '/v1/round1', bsh: bodyHash(body) });
    expect(payload.exp as number).toBe((payload.iat as number) + 30);
    const v = new RpcTokenVerifier({ jwks, issuer: 'coord', audience: 'signer-7' });
    expect(v.verify(`Bearer ${token}`, { path: '/v1/round1', body }).aud).toBe('signer-7');
  });

  it('every token has a fresh jti, so two identical calls are not replays of each other', () => {
    const v = verifier();
    const jtis = new Set<string>();
    for (let i = 0; i < 20; i++) jtis.add(v.verify(`Bearer ${signer.sign({ audience: 'signer-1', path: PATH, body })}`, { path: PATH, body }).jti);
    expect(jtis.size).toBe(20);
  });

  it('uses the configured lifetime', () => {
    const short = new RpcTokenSigner({ privateKey, kid: 'k1', issuer: 'coord', lifetimeSeconds: 5 });
    const claims = verifier().verify(`Bearer ${short.sign({ audience: 'signer-1', path: PATH, body })}`, { path: PATH, body });
    expect(claims.exp - claims.iat).toBe(5);
  });

  it.each([
    ['a public key', { privateKey: publicKey }],
    ['an EC private key', { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }],
    ['an empty kid', { kid: '' }],
    ['an empty issuer', { issuer: '' }],
    ['a zero lifetime', { lifetimeSeconds: 0 }],
    ['a lifetime over the maximum', { lifetimeSeconds: MAX_TOKEN_LIFETIME_SECONDS + 1 }],
    ['a fractional lifetime', { lifetimeSeconds: 1.5 }],
  ])('refuses %s with InvalidArgumentError', (_what, override) => {
    expect(() => new RpcTokenSigner({ privateKey, kid: 'k1', issuer: 'coord', ...override })).toThrow(InvalidArgumentError);
  });

  it('does not show its key when inspected or logged', () => {
    const text = inspect(signer);
    expect(text).toContain('[redacted]');
    const d = privateKey.export({ format: 'jwk' }).d!;
    expect(text).not.toContain(d);
    expect(JSON.stringify(signer)).not.toContain(d);
  });
});

describe('RpcTokenVerifier configuration', () => {
  it('refuses an empty issuer or audience and a bad JWKS with InvalidArgumentError', () => {
    expect(() => new RpcTokenVerifier({ jwks, issuer: '', audience: 'a' })).toThrow(InvalidArgumentError);
    expect(() => new RpcTokenVerifier({ jwks, issuer: 'i', audience: '' })).toThrow(InvalidArgumentError);
    expect(() => new RpcTokenVerifier({ jwks: { keys: [] }, issuer: 'i', audience: 'a' })).toThrow(InvalidArgumentError);
  });

  it('selects the key by kid: rotation with two pinned keys', () => {
    const rotated = new RpcTokenSigner({ privateKey: other.privateKey, kid: 'k2', issuer: 'coord' });
    const v = new RpcTokenVerifier({ jwks: { keys: [publicJwk(privateKey, 'k1'), publicJwk(other.publicKey, 'k2')] }, issuer: 'coord', audience: 'signer-1' });
    expect(v.verify(`Bearer ${signer.sign({ audience: 'signer-1', path: PATH, body })}`, { path: PATH, body }).kid).toBe('k1');
    expect(v.verify(`Bearer ${rotated.sign({ audience: 'signer-1', path: PATH, body })}`, { path: PATH, body }).kid).toBe('k2');
    // k2's key under k1's kid does not verify.
    const mislabelled = new RpcTokenSigner({ privateKey: other.privateKey, kid: 'k1', issuer: 'coord' });
    expect(tokenError(() => v.verify(`Bearer ${mislabelled.sign({ audience: 'signer-1', path: PATH, body })}`, { path: PATH, body })).code).toBe(
      'TOKEN_BAD_SIGNATURE',
    );
  });
});

describe('key material', () => {
  it('loadEd25519PrivateKey reads PKCS#8 PEM, a JWK object and a JWK string to the same key', () => {
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const jwk = privateKey.export({ format: 'jwk' });
    for (const material of [pem, jwk, JSON.stringify(jwk)]) {
      const key = loadEd25519PrivateKey(material as never);
      expect(key.type).toBe('private');
      expect(publicJwk(key, 'k')).toEqual(publicJwk(privateKey, 'k'));
    }
  });

  it('loadEd25519PrivateKey refuses a key of another type with InvalidArgumentError', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => loadEd25519PrivateKey(ec)).toThrow(InvalidArgumentError);
  });

  it('publicJwk gives the same public JWK for the private and the public key, without d', () => {
    const fromPrivate = publicJwk(privateKey, 'k1');
    expect(fromPrivate).toEqual(publicJwk(publicKey, 'k1'));
    expect(fromPrivate).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: 'k1', alg: 'EdDSA', use: 'sig' });
    expect('d' in fromPrivate).toBe(false);
  });

  it('parseJwks keeps well-formed Ed25519 keys and normalizes them', () => {
    const jwk = publicJwk(privateKey, 'k1');
    const parsed = parseJwks(JSON.stringify({ keys: [{ ...jwk, alg: 'Ed25519', use: 'sig', extra: 'ignored' }] }));
    expect(parsed).toEqual({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: 'k1', alg: 'EdDSA' }] });
    // No alg member is fine too.
    expect(parseJwks(JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: 'k1' }] })).keys).toHaveLength(1);
  });

  it.each([
    ['not JSON', 'nope'],
    ['no keys', '{}'],
    ['an empty key list', '{"keys":[]}'],
    ['keys that is not an array', '{"keys":{}}'],
    ['a private key', JSON.stringify({ keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'k1' }] })],
    ['an EC key', JSON.stringify({ keys: [{ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'e' }] })],
    ['an X25519 key', JSON.stringify({ keys: [{ kty: 'OKP', crv: 'X25519', x: 'AAAA', kid: 'x' }] })],
    ['a key without kid', JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: publicJwk(privateKey, 'k').x }] })],
    ['a key with an empty kid', JSON.stringify({ keys: [{ ...publicJwk(privateKey, ''), kid: '' }] })],
    ['a key for another alg', JSON.stringify({ keys: [{ ...publicJwk(privateKey, 'k1'), alg: 'RS256' }] })],
    ['a null key (was a TypeError)', '{"keys":[null]}'],
    ['a key that is a string', '{"keys":["k"]}'],
    ['duplicate kids', JSON.stringify({ keys: [publicJwk(privateKey, 'k1'), publicJwk(other.publicKey, 'k1')] })],
  ])('parseJwks refuses %s with InvalidArgumentError', (_what, text) => {
    expect(() => parseJwks(text)).toThrow(InvalidArgumentError);
  });
});

describe('RPC tokens: properties', () => {
  it('any single-character change to a token is refused with a TokenError', () => {
    const token = signer.sign({ audience: 'signer-1', path: '/p', body });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...alphabet), (i, ch) => {
        fc.pre(token[i] !== ch);
        const tampered = token.slice(0, i) + ch + token.slice(i + 1);
        let err: unknown;
        try {
          verifier().verify(`Bearer ${tampered}`, { path: '/p', body });
        } catch (e) {
          err = e;
        }
        // The last base64url character of the signature carries 2 unused bits: a change there can decode
        // to the same 64 bytes, which is the same token, legitimately accepted.
        if (err === undefined) {
          expect(Buffer.from(tampered.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
          expect(tampered.split('.').slice(0, 2)).toEqual(token.split('.').slice(0, 2));
        } else {
          expect(err).toBeInstanceOf(TokenError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a token is accepted for exactly the body and path it was minted for', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), fc.constantFrom('/v1/round1', '/v1/round2', '/v1/info'), fc.constantFrom('/v1/round1', '/v1/round2', '/v1/info'), (signed, sent, signedPath, sentPath) => {
        const token = signer.sign({ audience: 'signer-1', path: signedPath, body: signed });
        let err: TokenError | undefined;
        try {
          verifier().verify(`Bearer ${token}`, { path: sentPath, body: sent });
        } catch (e) {
          err = e as TokenError;
        }
        const sameBody = Buffer.from(signed).equals(Buffer.from(sent));
        if (signedPath !== sentPath) expect(err?.code).toBe('TOKEN_PATH_MISMATCH');
        else if (!sameBody) expect(err?.code).toBe('TOKEN_BODY_MISMATCH');
        else expect(err).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });
});
