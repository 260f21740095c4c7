import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createPolicy } from '../src/policy.js';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const jws = (h: unknown, p: unknown) => new TextEncoder().encode(`${b64(h)}.${b64(p)}`);

describe('validation policy', () => {
  const jwsPolicy = createPolicy({ mode: 'jws', maxMessageBytes: 1024, jwsRequiredClaims: ['sub', 'exp'] });
  it('accepts an EdDSA / Ed25519 JWS signing input with the required claims', () => {
    expect(jwsPolicy(jws({ alg: 'EdDSA', typ: 'JWT' }, { sub: 'a', exp: 1 }))).toEqual({ ok: true });
    expect(jwsPolicy(jws({ alg: 'Ed25519' }, { sub: 'a', exp: 1, extra: true }))).toEqual({ ok: true });
  });
  it.each([
    ['too large', new Uint8Array(1025), 'POLICY_MESSAGE_TOO_LARGE'],
    ['empty', new Uint8Array(0), 'POLICY_EMPTY_MESSAGE'],
    ['three segments (a whole JWS)', new TextEncoder().encode(`${b64({ alg: 'EdDSA' })}.${b64({ sub: 1 })}.sig`), 'POLICY_NOT_JWS'],
    ['header not JSON', new TextEncoder().encode(`${b64('nope')}.${b64({ sub: 1, exp: 1 })}`), 'POLICY_JWS_HEADER'],
    ['alg RS256', jws({ alg: 'RS256' }, { sub: 'a', exp: 1 }), 'POLICY_JWS_ALG'],
    ['alg none', jws({ alg: 'none' }, { sub: 'a', exp: 1 }), 'POLICY_JWS_ALG'],
    ['crit header', jws({ alg: 'EdDSA', crit: ['x'], x: 1 }, { sub: 'a', exp: 1 }), 'POLICY_JWS_HEADER'],
    ['b64 false', jws({ alg: 'EdDSA', b64: false }, { sub: 'a', exp: 1 }), 'POLICY_JWS_HEADER'],
    ['payload array', jws({ alg: 'EdDSA' }, [1]), 'POLICY_JWS_PAYLOAD'],
    ['missing claim', jws({ alg: 'EdDSA' }, { sub: 'a' }), 'POLICY_JWS_MISSING_CLAIM'],
  ])('refuses %s', (_n, message, code) => {
    const r = jwsPolicy(message);
    expect(r.ok).toBe(false);
    expect(r.ok ? undefined : r.code).toBe(code);
  });
  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (m) => {
      expect(typeof jwsPolicy(m).ok).toBe('boolean');
    }));
  });
  it('raw mode only limits size', () => {
    const raw = createPolicy({ mode: 'raw', maxMessageBytes: 4, jwsRequiredClaims: [] });
    expect(raw(new Uint8Array(4)).ok).toBe(true);
    expect(raw(new Uint8Array(5)).ok).toBe(false);
  });
});
