import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  Identifier,
  InvalidSignatureShareError,
  MissingSignatureShareError,
  SignatureShare,
  SigningPackage,
  UnknownIdentifierError,
  aggregate,
  computeSigningContext,
  round1,
  trustedDealerKeygen,
  verifySignatureShare,
  type FrostError,
} from '../src/index.js';
import { mod } from '../src/ciphersuite.js';
import { lagrangeCoefficient } from '../src/signing-context.js';
import { ed25519Verifies } from '@hoarfrost/testkit/support';
import { runSigning, verifyCofactored } from './helpers.js';

describe.each([
  [2, 3],
  [3, 5],
  [7, 10],
])('%i-of-%i dealer keys', (t, n) => {
  // OpenSSL's command-line verifier is run on these signatures by tests/e2e/openssl.e2e.test.ts.
  it('signs; node:crypto and the cofactored verifier accept; a changed message is refused', () => {
    const message = randomBytes(48);
    // Use the last t participants so identifiers other than 1..t are exercised.
    const participants = Array.from({ length: t }, (_, i) => n - t + 1 + i);
    const { dealt, pkg, shares } = runSigning(t, n, message, participants);
    const sig = aggregate(pkg, shares, dealt.publicKeyPackage).toBytes();
    const pk = dealt.publicKeyPackage.verifyingKeyBytes;
    expect(ed25519Verifies(pk, message, sig)).toBe(true);
    expect(verifyCofactored(pk, message, sig)).toBe(true);
    const other = Uint8Array.from(message);
    other[0]! ^= 1;
    expect(ed25519Verifies(pk, other, sig)).toBe(false);
    expect(verifyCofactored(pk, other, sig)).toBe(false);
  });
});

describe('cheater detection', () => {
  const message = new TextEncoder().encode('cheater detection');
  const base = runSigning(4, 6, message, [1, 2, 4, 6]);
  const ids = [...base.shares.keys()];

  it('a valid share verifies individually', () => {
    const ctx = computeSigningContext(base.pkg, base.dealt.publicKeyPackage.verifyingKeyBytes);
    for (const id of ids) {
      const identifier = Identifier.fromHex(id);
      expect(verifySignatureShare(ctx, identifier, base.dealt.publicKeyPackage.verifyingShareOf(identifier), base.shares.get(id)!)).toBe(true);
    }
  });

  it('any tampered subset of shares is rejected and exactly its signers are named', () => {
    fc.assert(
      fc.property(
        fc.subarray(ids, { minLength: 1 }),
        fc.bigInt({ min: 1n, max: (1n << 252n) - 1n }),
        (cheaters, delta) => {
          const shares = new Map(base.shares);
          for (const id of cheaters) shares.set(id, new SignatureShare(mod(shares.get(id)!.share + delta)));
          let error: FrostError | undefined;
          try {
            aggregate(base.pkg, shares, base.dealt.publicKeyPackage);
          } catch (e) {
            error = e as FrostError;
          }
          // Adding the same delta to an even number of shares cannot cancel out (delta·k ≠ 0 mod L for k < L).
          expect(error).toBeInstanceOf(InvalidSignatureShareError);
          expect(error!.code).toBe('INVALID_SIGNATURE_SHARE');
          expect([...error!.culprits].sort()).toEqual([...cheaters].sort());
        },
      ),
      { numRuns: 25 },
    );
  });

  it('errors that cancel in the sum still yield a valid signature (sum first, check shares only on failure)', () => {
    // Swapping two shares keeps Σz_i, so the aggregate verifies: nothing wrong is returned, and the
    // per-share check (which would blame both) is skipped. This is the frost-rs strategy by design.
    const shares = new Map(base.shares);
    const [a, b] = ids as [string, string];
    shares.set(a, base.shares.get(b)!);
    shares.set(b, base.shares.get(a)!);
    const ctx = computeSigningContext(base.pkg, base.dealt.publicKeyPackage.verifyingKeyBytes);
    const ida = Identifier.fromHex(a);
    expect(verifySignatureShare(ctx, ida, base.dealt.publicKeyPackage.verifyingShareOf(ida), shares.get(a)!)).toBe(false);
    const sig = aggregate(base.pkg, shares, base.dealt.publicKeyPackage).toBytes();
    expect(verifyCofactored(base.dealt.publicKeyPackage.verifyingKeyBytes, message, sig)).toBe(true);
  });

  it('a missing share is named', () => {
    const shares = new Map(base.shares);
    shares.delete(ids[2]!);
    let error: unknown;
    try {
      aggregate(base.pkg, shares, base.dealt.publicKeyPackage);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MissingSignatureShareError);
    expect((error as FrostError).culprits).toEqual([ids[2]]);
  });
});

describe('aggregate refuses inputs that do not fit the package or the key set', () => {
  const message = new TextEncoder().encode('aggregate inputs');
  const base = runSigning(2, 3, message, [1, 3]);
  const pkp = base.dealt.publicKeyPackage;
  const codeOf = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return (e as FrostError).code;
    }
    return undefined;
  };

  it('fewer commitments than the threshold', () => {
    const threeOfThree = trustedDealerKeygen({ minSigners: 3, maxSigners: 3 }).publicKeyPackage;
    expect(codeOf(() => aggregate(base.pkg, base.shares, threeOfThree))).toBe('INVALID_SIGNING_PACKAGE');
  });

  it('a share from a participant outside the package', () => {
    const shares = new Map(base.shares);
    shares.set(Identifier.fromNumber(2).toHex(), new SignatureShare(1n));
    expect(codeOf(() => aggregate(base.pkg, shares, pkp))).toBe('INVALID_SIGNING_PACKAGE');
  });

  it('participants outside the key set, every one of them named', () => {
    const strangers = [7, 9].map((n) => Identifier.fromNumber(n));
    const entries = [...base.pkg.signingCommitments.values(), ...strangers.map((identifier) => ({ identifier, commitments: round1.commit(5n).commitments }))];
    const pkg = new SigningPackage(entries, message);
    const shares = new Map(base.shares);
    for (const s of strangers) shares.set(s.toHex(), new SignatureShare(1n));
    let error: unknown;
    try {
      aggregate(pkg, shares, pkp);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownIdentifierError);
    expect((error as FrostError).culprits).toEqual(strangers.map((s) => s.toHex()));
  });

  it('a wrong group-commitment hint costs only the shortcut: the signature is still the right one', () => {
    const wrongR = round1.commit(11n).commitments.hidingBytes;
    const shares = new Map([...base.shares].map(([k, s]) => [k, new SignatureShare(s.share, wrongR)]));
    const sig = aggregate(base.pkg, shares, pkp);
    const ctx = computeSigningContext(base.pkg, pkp.verifyingKeyBytes);
    expect(Buffer.from(sig.R).equals(Buffer.from(ctx.groupCommitmentBytes))).toBe(true);
    expect(verifyCofactored(pkp.verifyingKeyBytes, message, sig.toBytes())).toBe(true);
  });
});

describe('aggregate refuses a group commitment equal to the identity', () => {
  it('with shares summing to c·s it would verify and reveal the group secret: IDENTITY_COMMITMENT instead', () => {
    const message = randomBytes(16);
    const { dealt, pkg, shares } = runSigning(2, 3, message, [1, 2]);
    const identity = Uint8Array.from([1, ...new Array<number>(31).fill(0)]);
    const ctx = { ...computeSigningContext(pkg, dealt.publicKeyPackage.verifyingKeyBytes), groupCommitmentBytes: identity };
    // Shares a colluding quorum would send for R = identity: z_i = c·λ_i·s_i, so that Σ z_i = c·s.
    const evil = new Map<string, SignatureShare>();
    for (const [hex] of shares) {
      const kp = [...dealt.keyPackages.values()].find((k) => k.identifier.toHex() === hex)!;
      evil.set(hex, new SignatureShare(mod(ctx.challenge * lagrangeCoefficient(ctx, kp.identifier) * kp.signingShare), identity));
    }
    expect(() => aggregate(pkg, evil, dealt.publicKeyPackage, ctx)).toThrow(expect.objectContaining({ code: 'IDENTITY_COMMITMENT' }));
  });
});
