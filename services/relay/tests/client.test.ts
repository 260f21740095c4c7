import { describe, expect, it } from '@jest/globals';
import { identityPublicHex, identityToJson, newIdentity, parseIdentity } from '../src/client.js';

describe('relay identities', () => {
  it('round-trips frostctl\'s identity file, deriving the public key from the private one', () => {
    const id = newIdentity();
    const text = identityToJson(id);
    expect(JSON.parse(text)).toMatchObject({ kind: 'frost-relay-identity', version: 1 });
    expect(identityPublicHex(parseIdentity(text))).toBe(identityPublicHex(id));
    const lying = JSON.stringify({ ...JSON.parse(text), pubkey: '00'.repeat(32) });
    expect(identityPublicHex(parseIdentity(lying))).toBe(identityPublicHex(id));
  });

  it('reads the communication key of frost-client\'s credentials.toml', () => {
    const id = newIdentity();
    const toml = `version = 0\n\n[communication_key]\nprivkey = "${Buffer.from(id.privateKey).toString('hex')}"\npubkey = "${identityPublicHex(id)}"\n\n[contact.bob]\nversion = 0\nname = "bob"\npubkey = "${'11'.repeat(32)}"\n`;
    expect(identityPublicHex(parseIdentity(toml))).toBe(identityPublicHex(id));
  });

  it('refuses files without a 32-byte private key', () => {
    expect(() => parseIdentity('{"privkey":"00"}', 'f.json')).toThrow(/f\.json: no 32-byte hex private key/);
    expect(() => parseIdentity('[contact.x]\nprivkey = "00"\n')).toThrow(/no 32-byte hex private key/);
    expect(() => parseIdentity('{not json')).toThrow(/not JSON/);
  });
});
