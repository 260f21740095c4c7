// FROST signatures are plain Ed25519: OpenSSL's command-line verifier (another process, another
// implementation) accepts them and refuses them for a changed message.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { opensslVerifies } from '@hoarfrost/testkit/support';
import { Identifier, SigningPackage, aggregate, round1, round2, trustedDealerKeygen, type SignatureShare } from '@hoarfrost/frost';

describe.each([
  [2, 3],
  [3, 5],
  [7, 10],
])('%i-of-%i', (t, n) => {
  it('openssl pkeyutl accepts the signature and refuses it for another message', () => {
    const dealt = trustedDealerKeygen({ minSigners: t, maxSigners: n });
    // The last t participants, so identifiers other than 1..t are exercised.
    const keys = [...dealt.keyPackages.values()].slice(n - t);
    const commits = keys.map((kp) => round1.commit(kp.signingShare));
    const message = randomBytes(48);
    const pkg = new SigningPackage(keys.map((kp, i) => ({ identifier: kp.identifier, commitments: commits[i]!.commitments })), message);
    const shares = new Map<string, SignatureShare>(keys.map((kp, i) => [kp.identifier.toHex(), round2.sign(pkg, commits[i]!.nonces, kp)]));
    const sig = aggregate(pkg, shares, dealt.publicKeyPackage).toBytes();
    const pk = dealt.publicKeyPackage.verifyingKeyBytes;
    expect(opensslVerifies(pk, message, sig)).toBe(true);
    const other = Uint8Array.from(message);
    other[0]! ^= 1;
    expect(opensslVerifies(pk, other, sig)).toBe(false);
    expect(keys[0]!.identifier.equals(Identifier.fromNumber(n - t + 1))).toBe(true);
  });
});
