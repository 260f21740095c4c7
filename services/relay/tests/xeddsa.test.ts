// XEdDSA as the relay checks it and its clients make it: vectors signed by the xeddsa crate that
// frost-client uses (1.0.2), round trips, and refusal of every tampered input.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { generateX25519KeyPair, montgomeryToEdwards, x25519PublicKey, xeddsaSign, xeddsaVerify } from '../src/xeddsa.js';

/** Signed by xeddsa 1.0.2 (`xed25519::PrivateKey::sign`), the crate frost-client signs its login with. */
const RUST_VECTORS = [
  {
    priv: '7b54e630c738233f38fc33a588992df3c768ea6476f8c96f10eed87508fb0a3c',
    pub: 'e9df9c0cc6510dfaa01703541022b0d9d4b52772fdb39ddfe0cedb304429135e',
    msg: '415706491952e01b726354e842a7c995',
    sig: '4ac31b7148d15493c87cb9b4b1695965d05c3f80d85bcc9a25d1fc79365d1accf95da05ce4c5af1b0937aa0b0af9541c49bd5ace0d70011a99a80a97dcb6a802',
  },
  {
    priv: '846d53bd4c7d8b6f4d3cdeedb2d5dc4dcf7e764dc1de7e1204082de7ea015a3c',
    pub: '998a97d2b697a0c3b363eb7b257ced2543e218ddad30a3563daa34d996466b64',
    msg: 'af32a2cd12687a6bc03aa4d78a1939b7',
    sig: 'a1336d04625b5a5e813ab76aeb2b3b1f72cee0b0fd4ffd3a505926272cac19be699a915ab4e21b00be7a3f8a8db605d3f177ed9b9b63da33dc0ec5cf72cebd07',
  },
  {
    priv: 'f85325a0956257a8499f081189800a466f0dc152e7c45a226c3bb3ee42d6ffaf',
    pub: '8590cd871a630ffb4076b0afc692a103728e23aa52902a0fd8b4e90ff29c261f',
    msg: '3b610c456df6cc0baf9bd7ca8c6df3b9',
    sig: '8c143c33860f559709c2bd88d513940ef06540ca0fb3b0ea22ae3e3da4f6ddcfd33da7e455de2a2436ddae40a2f723a14963981bd73f9e509861db1e016f2e07',
  },
];
const b = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

describe('XEdDSA', () => {
  it.each(RUST_VECTORS)('accepts the xeddsa crate\'s signature $sig.0', (v) => {
    expect(Buffer.from(x25519PublicKey(b(v.priv))).toString('hex')).toBe(v.pub);
    expect(xeddsaVerify(b(v.pub), b(v.msg), b(v.sig))).toBe(true);
    // The same message under another key, or another message, does not verify.
    expect(xeddsaVerify(b(RUST_VECTORS[(RUST_VECTORS.indexOf(v) + 1) % 3]!.pub), b(v.msg), b(v.sig))).toBe(false);
    expect(xeddsaVerify(b(v.pub), b(v.msg.replace(/^../, 'ff')), b(v.sig))).toBe(false);
  });

  it('signs what it verifies, with a fresh nonce each time', () => {
    const { privateKey, publicKey } = generateX25519KeyPair();
    const msg = randomBytes(16);
    const s1 = xeddsaSign(privateKey, msg);
    const s2 = xeddsaSign(privateKey, msg);
    expect(Buffer.from(s1).equals(Buffer.from(s2))).toBe(false);
    expect(xeddsaVerify(publicKey, msg, s1)).toBe(true);
    expect(xeddsaVerify(publicKey, msg, s2)).toBe(true);
  });

  it('a flipped bit anywhere in key, message or signature is refused (property)', () => {
    const { privateKey, publicKey } = generateX25519KeyPair();
    const msg = new Uint8Array(randomBytes(16));
    const sig = xeddsaSign(privateKey, msg);
    fc.assert(
      fc.property(fc.constantFrom('key', 'msg', 'sig'), fc.nat(), fc.integer({ min: 0, max: 7 }), (what, at, bit) => {
        const k = Uint8Array.from(publicKey);
        const m = Uint8Array.from(msg);
        const s = Uint8Array.from(sig);
        const target = what === 'key' ? k : what === 'msg' ? m : s;
        const i = at % target.length;
        // Bit 255 of a Montgomery u is ignored by every implementation: flipping it changes nothing.
        if (what === 'key' && i === 31 && bit === 7) return;
        target[i]! ^= 1 << bit;
        expect(xeddsaVerify(k, m, s)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses malformed lengths, u = −1 (no Edwards form), and small-order keys anyone can sign for', () => {
    const { privateKey, publicKey } = generateX25519KeyPair();
    const msg = randomBytes(16);
    const sig = xeddsaSign(privateKey, msg);
    expect(xeddsaVerify(publicKey.slice(0, 31), msg, sig)).toBe(false);
    expect(xeddsaVerify(publicKey, msg, sig.slice(0, 63))).toBe(false);
    const minusOne = Buffer.from((2n ** 255n - 20n).toString(16).padStart(64, '0'), 'hex').reverse();
    expect(montgomeryToEdwards(minusOne)).toBeUndefined();
    expect(xeddsaVerify(minusOne, msg, sig)).toBe(false);
    // u = 0 maps to a point of order 4; the identity R with s = 0 "verifies" under any small-order key.
    const zero = new Uint8Array(32);
    const forged = new Uint8Array(64);
    forged[0] = 1;
    expect(xeddsaVerify(zero, msg, forged)).toBe(false);
  });

  it('montgomeryToEdwards inverts the birational map, with sign bit 0', () => {
    for (let i = 0; i < 20; i++) {
      const edPub = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
      const u = ed25519.utils.toMontgomery(edPub);
      const back = montgomeryToEdwards(u)!;
      const withoutSign = Uint8Array.from(edPub);
      withoutSign[31]! &= 0x7f;
      expect(Buffer.from(back).toString('hex')).toBe(Buffer.from(withoutSign).toString('hex'));
    }
  });
});
