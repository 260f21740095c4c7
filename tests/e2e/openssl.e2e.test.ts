// FROST signatures are plain Ed25519: OpenSSL's command-line verifier (another process, another
// implementation) accepts them and refuses them for a changed message.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identifier, SigningPackage, aggregate, round1, round2, trustedDealerKeygen, type SignatureShare } from '@hoarfrost/frost';

function opensslVerifies(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'frost-openssl-'));
  const spki = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  writeFileSync(join(dir, 'pub.pem'), spki);
  writeFileSync(join(dir, 'msg'), message);
  writeFileSync(join(dir, 'sig'), signature);
  try {
    execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'pub.pem'), '-rawin', '-in', join(dir, 'msg'), '-sigfile', join(dir, 'sig')], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

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
