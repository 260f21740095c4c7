// Shared helpers for the frost package tests: run a whole signing among chosen participants.
import {
  Identifier,
  SigningPackage,
  round1,
  round2,
  trustedDealerKeygen,
  type KeyPackage,
  type SignatureShare,
  type TrustedDealerOutput,
} from '../src/index.js';

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
