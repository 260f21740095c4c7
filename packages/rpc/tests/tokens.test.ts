import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT, createLocalJWKSet, jwtVerify } from 'jose';
import { AuthError, RPC_TOKEN_TYPE, RpcTokenSigner, RpcTokenVerifier, bodyHash, publicJwk } from '../src/index.js';

const { privateKey } = generateKeyPairSync('ed25519');
const jwks = { keys: [publicJwk(privateKey, 'k1')] };
const signer = new RpcTokenSigner({ privateKey, kid: 'k1', issuer: 'coord' });
const body = new TextEncoder().encode('body bytes');
const verifier = () => new RpcTokenVerifier({ jwks, issuer: 'coord', audience: 'signer-1' });

describe('RPC tokens', () => {
  it('our tokens are standard JWTs that jose verifies with the same constraints', async () => {
    const token = await signer.sign({ audience: 'signer-1', path: '/v1/round2', body });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      algorithms: ['EdDSA'],
      issuer: 'coord',
      audience: 'signer-1',
      typ: RPC_TOKEN_TYPE,
      maxTokenAge: 60,
    });
    expect(protectedHeader.kid).toBe('k1');
    expect(payload.bsh).toBe(bodyHash(body));
    expect(payload.htu).toBe('/v1/round2');
    expect((payload.exp as number) - (payload.iat as number)).toBeLessThanOrEqual(60);
  });

  it('the verifier accepts a jose-minted token and refuses its replay', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ bsh: bodyHash(body), htu: '/v1/round2' })
      .setProtectedHeader({ alg: 'EdDSA', typ: RPC_TOKEN_TYPE, kid: 'k1' })
      .setIssuer('coord').setAudience('signer-1').setIssuedAt(now).setExpirationTime(now + 30).setJti('a'.repeat(22))
      .sign(privateKey);
    const v = verifier();
    expect(v.verifySync(`Bearer ${token}`, { path: '/v1/round2', body }).jti).toBe('a'.repeat(22));
    expect(() => v.verifySync(`Bearer ${token}`, { path: '/v1/round2', body })).toThrow(expect.objectContaining({ code: 'TOKEN_REPLAYED' }));
  });

  it('any single-character change to a token is refused with an AuthError', async () => {
    const token = await signer.sign({ audience: 'signer-1', path: '/p', body });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(fc.property(fc.nat(token.length - 1), fc.constantFrom(...alphabet), (i, ch) => {
      fc.pre(token[i] !== ch);
      const tampered = token.slice(0, i) + ch + token.slice(i + 1);
      let err: unknown;
      try {
        verifier().verifySync(`Bearer ${tampered}`, { path: '/p', body });
      } catch (e) {
        err = e;
      }
      // The last base64url character of the signature carries 2 unused bits: a change there can decode
      // to the same 64 bytes, which is the same token, legitimately accepted.
      if (err === undefined) {
        expect(Buffer.from(tampered.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
        expect(tampered.split('.').slice(0, 2)).toEqual(token.split('.').slice(0, 2));
      } else {
        expect(err).toBeInstanceOf(AuthError);
      }
    }), { numRuns: 300 });
  });
});
