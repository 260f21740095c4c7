// Shared helpers for the frost package tests: run a whole signing among chosen participants, and an
// independent verifier built on this package's own arithmetic.
import {
  FrostError,
  Identifier,
  SigningPackage,
  round1,
  round2,
  trustedDealerKeygen,
  type Element,
  type KeyPackage,
  type SignatureShare,
  type TrustedDealerOutput,
} from '../src/index.js';
import { bytesToNumberLE } from '../src/bytes.js';
import { ORDER, Point } from '../src/ciphersuite.js';
import { computeChallenge } from '../src/signing-context.js';

export interface SigningRun {
  dealt: TrustedDealerOutput;
  pkg: SigningPackage;
  shares: Map<string, SignatureShare>;
}

/** Dealer keys for t-of-n, commitments and shares from the first `participants` (default: 1..t). */
export function runSigning(t: number, n: number, message: Uint8Array, participants?: number[], dealt?: TrustedDealerOutput): SigningRun {
  const keys = dealt ?? trustedDealerKeygen({ minSigners: t, maxSigners: n });
  const ids = participants ?? Array.from({ length: t }, (_, i) => i + 1);
  const keyOf = (i: number): KeyPackage => keys.keyPackages.get(Identifier.fromNumber(i).toHex())!;
  const commits = ids.map((i) => ({ id: i, ...round1.commit(keyOf(i).signingShare) }));
  const pkg = new SigningPackage(
    commits.map((c) => ({ identifier: Identifier.fromNumber(c.id), commitments: c.commitments })),
    message,
  );
  const shares = new Map<string, SignatureShare>();
  for (const c of commits) shares.set(Identifier.fromNumber(c.id).toHex(), round2.sign(pkg, c.nonces, keyOf(c.id)));
  return { dealt: keys, pkg, shares };
}

/**
 * Cofactored Ed25519 verification ([8](z·B − R − c·Y) = 0, RFC 8032 §5.1.7) with @noble/curves point
 * arithmetic and this package's challenge: a verifier independent of node:crypto and OpenSSL.
 */
export function verifyCofactored(verifyingKeyBytes: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  let R: Element;
  let Y: Element;
  try {
    R = Point.fromBytes(signature.subarray(0, 32), false);
    Y = Point.fromBytes(verifyingKeyBytes, false);
  } catch {
    return false;
  }
  const z = bytesToNumberLE(signature.subarray(32));
  if (z >= ORDER) return false;
  const c = computeChallenge(signature.subarray(0, 32), verifyingKeyBytes, message);
  return Point.BASE.multiplyUnsafe(z).subtract(R.add(Y.multiplyUnsafe(c))).clearCofactor().is0();
}

/** The stable code of the FrostError `f` throws, or undefined when it throws none. */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (!(e instanceof FrostError)) throw e;
    return e.code;
  }
  return undefined;
}
