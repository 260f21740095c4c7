import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { concatBytes, fromHexStrict, toHex } from '../src/bytes.js';
import { H3, Point, deserializeScalar, serializeScalar } from '../src/ciphersuite.js';
import { SigningCommitments, SigningNonces, commit, nonceGenerate } from '../src/round1.js';

const vector = JSON.parse(readFileSync(new URL('./fixtures/rfc9591-ed25519.json', import.meta.url), 'utf8')) as {
  shares: Record<string, string>;
  round1: Record<string, Record<string, string>>;
};
const hex = (s: string): Uint8Array => fromHexStrict(s)!;
const share1 = deserializeScalar(hex(vector.shares['1']!));
const r1 = vector.round1['1']!;
const identity = hex('01' + '00'.repeat(31));
const order8 = hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05');

describe('nonce_generate (RFC 9591 §4.1)', () => {
  it('is H3(random_bytes ‖ SerializeScalar(secret)), as in the RFC vector', () => {
    const randomness = hex(r1.hiding_nonce_randomness!);
    expect(nonceGenerate(share1, randomness)).toBe(H3(concatBytes(randomness, serializeScalar(share1))));
    expect(toHex(serializeScalar(nonceGenerate(share1, randomness)))).toBe(r1.hiding_nonce);
  });

  it('mixes in the signing share, so equal randomness under two shares gives different nonces', () => {
    const randomness = new Uint8Array(32);
    expect(nonceGenerate(1n, randomness)).not.toBe(nonceGenerate(2n, randomness));
  });

  it('refuses randomness that is not 32 bytes', () => {
    expect(() => nonceGenerate(share1, new Uint8Array(31))).toThrow(RangeError);
  });
});

describe('commit (RFC 9591 §5.1)', () => {
  it('commits to two fresh nonces drawn from the randomness source: D = [d]B, E = [e]B', () => {
    const draws: number[] = [];
    const fixed = [hex(r1.hiding_nonce_randomness!), hex(r1.binding_nonce_randomness!)];
    const { nonces, commitments } = commit(share1, (n) => {
      draws.push(n);
      return fixed[draws.length - 1]!;
    });
    expect(draws).toEqual([32, 32]);
    expect(toHex(commitments.hidingBytes)).toBe(r1.hiding_nonce_commitment);
    expect(toHex(commitments.bindingBytes)).toBe(r1.binding_nonce_commitment);
    expect(nonces.commitments).toBe(commitments);
    const { hiding, binding } = nonces.take();
    expect(toHex(Point.BASE.multiply(hiding).toBytes())).toBe(r1.hiding_nonce_commitment);
    expect(toHex(Point.BASE.multiply(binding).toBytes())).toBe(r1.binding_nonce_commitment);
  });

  it('gives different nonces on every call with the default source', () => {
    const a = commit(share1).commitments;
    const b = commit(share1).commitments;
    expect(a.equals(b)).toBe(false);
    expect(toHex(a.hidingBytes)).not.toBe(toHex(a.bindingBytes));
  });
});

describe('SigningNonces', () => {
  it('are single use: take() hands the scalars out once, then throws NonceReuseError', () => {
    const { nonces } = commit(share1);
    expect(nonces.used).toBe(false);
    const first = nonces.take();
    expect(typeof first.hiding).toBe('bigint');
    expect(nonces.used).toBe(true);
    expect(() => nonces.take()).toThrow(expect.objectContaining({ code: 'NONCE_REUSE' }));
  });

  it('discard() makes them unusable too', () => {
    const { nonces } = commit(share1);
    nonces.discard();
    expect(nonces.used).toBe(true);
    expect(() => nonces.take()).toThrow(expect.objectContaining({ code: 'NONCE_REUSE' }));
  });

  it('never show the secret scalars in JSON or util.inspect', () => {
    const nonces = SigningNonces.fromRandomness(share1, hex(r1.hiding_nonce_randomness!), hex(r1.binding_nonce_randomness!));
    const shown = JSON.stringify({ nonces }) + inspect(nonces, { showHidden: true, depth: 5 });
    expect(shown).not.toContain(r1.hiding_nonce!);
    expect(shown).not.toContain(BigInt('0x' + toHex(hex(r1.hiding_nonce!).reverse())).toString());
    expect(shown).toContain('redacted');
  });
});

describe('SigningCommitments', () => {
  const { commitments } = commit(share1);

  it('fromBytes validates both elements (DeserializeElement) and copies them', () => {
    const hiding = Uint8Array.from(commitments.hidingBytes);
    const c = SigningCommitments.fromBytes(hiding, commitments.bindingBytes);
    hiding[0]! ^= 1;
    expect(c.equals(commitments)).toBe(true);
    for (const bad of [identity, order8, new Uint8Array(31)]) {
      expect(() => SigningCommitments.fromBytes(bad, commitments.bindingBytes)).toThrow(expect.objectContaining({ code: 'INVALID_POINT' }));
      expect(() => SigningCommitments.fromBytes(commitments.hidingBytes, bad)).toThrow(expect.objectContaining({ code: 'INVALID_POINT' }));
    }
  });

  it('equals compares both elements; toHex is hiding ‖ binding', () => {
    const swapped = SigningCommitments.fromBytes(commitments.bindingBytes, commitments.hidingBytes);
    expect(swapped.equals(commitments)).toBe(false);
    expect(commitments.toHex()).toBe(toHex(commitments.hidingBytes) + toHex(commitments.bindingBytes));
    expect(Object.isFrozen(commitments)).toBe(true);
  });
});
