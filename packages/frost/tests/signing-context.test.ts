import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { concatBytes, toHex } from '../src/bytes.js';
import { H1, H2, H4, H5, Point, mod } from '../src/ciphersuite.js';
import { availableBackends, group, setGroupBackend } from '../src/group.js';
import { Identifier } from '../src/identifier.js';
import { trustedDealerKeygen } from '../src/keys.js';
import { deriveInterpolatingValue } from '../src/polynomial.js';
import { SigningNonces } from '../src/round1.js';
import {
  bindingFactorOf,
  computeBindingFactors,
  computeChallenge,
  computeOthersTerm,
  computeSigningContext,
  encodeGroupCommitmentList,
  lagrangeCoefficient,
} from '../src/signing-context.js';
import { SigningPackage } from '../src/signing-package.js';

const initial = group().name;
const dealt = trustedDealerKeygen({ minSigners: 3, maxSigners: 5 });
const vk = dealt.publicKeyPackage.verifyingKeyBytes;
const msg = new TextEncoder().encode('signing context');
const ids = [5, 1, 3];
const nonceOf = new Map(
  ids.map((n) => {
    const share = dealt.keyPackages.get(Identifier.fromNumber(n).toHex())!.signingShare;
    return [n, SigningNonces.fromRandomness(share, new Uint8Array(32).fill(n), new Uint8Array(32).fill(n + 100))] as const;
  }),
);
const pkg = new SigningPackage(ids.map((n) => ({ identifier: Identifier.fromNumber(n), commitments: nonceOf.get(n)!.commitments })), msg);
const pointOf = (b: Uint8Array) => Point.fromBytes(b);

describe('encode_group_commitment_list (RFC 9591 §4.3)', () => {
  it('is identifier ‖ D ‖ E per participant, in ascending identifier order', () => {
    const expected = concatBytes(
      ...[1, 3, 5].flatMap((n) => {
        const c = nonceOf.get(n)!.commitments;
        return [Identifier.fromNumber(n).toBytes(), c.hidingBytes, c.bindingBytes];
      }),
    );
    expect(toHex(encodeGroupCommitmentList(pkg))).toBe(toHex(expected));
  });
});

describe('compute_binding_factors (RFC 9591 §4.4)', () => {
  it('ρ_i = H1(Y ‖ H4(msg) ‖ H5(commitment list) ‖ i) for every participant', () => {
    const factors = computeBindingFactors(pkg, vk);
    const prefix = concatBytes(vk, H4(msg), H5(encodeGroupCommitmentList(pkg)));
    expect([...factors.keys()]).toEqual(pkg.identifiers.map((i) => i.toHex()));
    for (const id of pkg.identifiers) expect(factors.get(id.toHex())).toBe(H1(concatBytes(prefix, id.toBytes())));
  });

  it('bind to the message and the group key', () => {
    const other = new SigningPackage([...pkg.signingCommitments.values()], new TextEncoder().encode('other'));
    const id = Identifier.fromNumber(1).toHex();
    expect(computeBindingFactors(other, vk).get(id)).not.toBe(computeBindingFactors(pkg, vk).get(id));
    const otherKey = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 }).publicKeyPackage.verifyingKeyBytes;
    expect(computeBindingFactors(pkg, otherKey).get(id)).not.toBe(computeBindingFactors(pkg, vk).get(id));
  });
});

describe.each(availableBackends())('group commitment and challenge, %s backend', (backend) => {
  beforeAll(() => setGroupBackend(backend));
  afterAll(() => setGroupBackend(initial));

  it('R = Σ D_i + ρ_i·E_i (RFC 9591 §4.5), and c = H2(R ‖ Y ‖ msg) (§4.6)', () => {
    const ctx = computeSigningContext(pkg, vk);
    let R = Point.ZERO;
    for (const { identifier, commitments } of pkg.signingCommitments.values()) {
      const rho = ctx.bindingFactors.get(identifier.toHex())!;
      R = R.add(pointOf(commitments.hidingBytes)).add(pointOf(commitments.bindingBytes).multiply(rho));
    }
    expect(toHex(ctx.groupCommitmentBytes)).toBe(toHex(R.toBytes()));
    expect(ctx.challenge).toBe(H2(concatBytes(R.toBytes(), vk, msg)));
    expect(computeChallenge(ctx.groupCommitmentBytes, vk, msg)).toBe(ctx.challenge);
    expect(ctx.participants).toEqual([1n, 3n, 5n]);
  });

  it('a signer\'s shortcut ([d + ρ·e]B for its own term) and a prepared others-term give the same context', () => {
    const plain = computeSigningContext(pkg, vk);
    const me = Identifier.fromNumber(3);
    const { hiding, binding } = SigningNonces.fromRandomness(
      dealt.keyPackages.get(me.toHex())!.signingShare,
      new Uint8Array(32).fill(3),
      new Uint8Array(32).fill(103),
    ).take();
    const own = { identifier: me, hiding, binding };
    const shortcut = computeSigningContext(pkg, vk, own);
    const prepared = computeSigningContext(pkg, vk, own, { bindingFactors: plain.bindingFactors, othersTerm: computeOthersTerm(pkg, plain.bindingFactors, me) });
    for (const ctx of [shortcut, prepared]) {
      expect(toHex(ctx.groupCommitmentBytes)).toBe(toHex(plain.groupCommitmentBytes));
      expect(ctx.challenge).toBe(plain.challenge);
    }
  });

  it('the others-term plus a participant\'s own term is the whole group commitment', () => {
    const ctx = computeSigningContext(pkg, vk);
    const me = Identifier.fromNumber(5);
    const c = pkg.commitmentsOf(me)!;
    const mine = pointOf(c.hidingBytes).add(pointOf(c.bindingBytes).multiply(ctx.bindingFactors.get(me.toHex())!));
    const total = pointOf(computeOthersTerm(pkg, ctx.bindingFactors, me)).add(mine);
    expect(toHex(total.toBytes())).toBe(toHex(ctx.groupCommitmentBytes));
  });
});

describe('per-participant values', () => {
  const ctx = computeSigningContext(pkg, vk);

  it('lagrangeCoefficient is λ_i over the package participants (RFC 9591 §4.2)', () => {
    for (const id of pkg.identifiers) expect(lagrangeCoefficient(ctx, id)).toBe(deriveInterpolatingValue([1n, 3n, 5n], id.value));
    // The λ_i weight the signing shares so that Σ λ_i·s_i is the group secret.
    let secret = 0n;
    for (const id of pkg.identifiers) secret = mod(secret + lagrangeCoefficient(ctx, id) * dealt.keyPackages.get(id.toHex())!.signingShare);
    expect(toHex(Point.BASE.multiply(secret).toBytes())).toBe(toHex(vk));
  });

  it('bindingFactorOf and lagrangeCoefficient refuse a non-participant', () => {
    const stranger = Identifier.fromNumber(2);
    expect(bindingFactorOf(ctx, Identifier.fromNumber(1))).toBe(ctx.bindingFactors.get(Identifier.fromNumber(1).toHex()));
    expect(() => bindingFactorOf(ctx, stranger)).toThrow(expect.objectContaining({ code: 'INVALID_SIGNING_PACKAGE' }));
    expect(() => lagrangeCoefficient(ctx, stranger)).toThrow(expect.objectContaining({ code: 'INVALID_SIGNING_PACKAGE' }));
  });
});
