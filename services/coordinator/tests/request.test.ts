// The public /sign request: strict parsing, base64 decoding, and how participants are named.
import { describe, expect, it } from '@jest/globals';
import { Identifier } from '@hoarfrost/frost';
import { ApiError } from '../src/errors.js';
import { decodeBase64Any, parseSignRequest, participantId } from '../src/request.js';
import { fakeDeployment } from './fake-signers.js';

describe('msg_b64 decoding', () => {
  it.each([
    ['aGVsbG8=', 'hello'],
    ['aGVsbG8', 'hello'],
    ['-_-_', Buffer.from([0xfb, 0xff, 0xbf]).toString('latin1')],
    ['+/+/', Buffer.from([0xfb, 0xff, 0xbf]).toString('latin1')],
    ['', ''],
  ])('accepts %j', (input, expected) => {
    expect(Buffer.from(decodeBase64Any(input)!).toString('latin1')).toBe(expected);
  });
  it.each(['aGVsbG8==', 'aGVsbG9=', 'a', 'ab+_', 'ab c', 'aGk=x', '===='])('rejects %j', (input) => {
    expect(decodeBase64Any(input)).toBeUndefined();
  });
});

describe('parseSignRequest', () => {
  const parse = async (body: unknown) => {
    const d = await fakeDeployment(2, 3);
    return parseSignRequest(body, 'default', d.registry);
  };
  const code = async (body: unknown) => {
    try {
      await parse(body);
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      return (e as ApiError).code;
    }
    throw new Error('accepted');
  };

  it('accepts a message alone, pinned participants by number or by hex, or registered signer URLs', async () => {
    expect(Buffer.from((await parse({ msg_b64: 'aGk' })).message).toString()).toBe('hi');
    const p = await parse({ msg_b64: '', participants: [3, Identifier.fromNumber(1).toHex()] });
    expect(p.participants!.map(String)).toEqual(['3', '1']);
    const s = await parse({ msg_b64: '', signer_urls: ['https://signer-1.test:7443', 'https://signer-2.test:7443/', 'https://signer-1.test:7443'] });
    expect(s.signers!.map((h) => h.id)).toEqual(['signer-1', 'signer-2']);
  });

  it.each([
    [[], 'INVALID_REQUEST'],
    [{ msg_b64: 1 }, 'INVALID_REQUEST'],
    [{ msg_b64: 'a', extra: 1 }, 'UNKNOWN_FIELD'],
    [{ msg_b64: 'a' }, 'INVALID_BASE64'],
    [{ msg_b64: '', participants: [1, 2], signer_urls: ['https://signer-1.test:7443'] }, 'INVALID_REQUEST'],
    [{ msg_b64: '', participants: [0, 1] }, 'INVALID_PARTICIPANTS'],
    [{ msg_b64: '', participants: [1, 1] }, 'INVALID_PARTICIPANTS'],
    [{ msg_b64: '', participants: [1, Identifier.fromNumber(1).toHex()] }, 'INVALID_PARTICIPANTS'],
    [{ msg_b64: '', participants: [1, 'zz'] }, 'INVALID_PARTICIPANTS'],
    [{ msg_b64: '', participants: [1, 2, 3, 1, 2] }, 'INVALID_PARTICIPANTS'],
    [{ msg_b64: '', participants: [1, 9] }, 'UNKNOWN_PARTICIPANT'],
    [{ msg_b64: '', participants: [1] }, 'TOO_FEW_PARTICIPANTS'],
    [{ msg_b64: '', signer_urls: ['https://evil.example:443', 'https://signer-1.test:7443'] }, 'SIGNER_URL_NOT_ALLOWED'],
    [{ msg_b64: '', signer_urls: ['https://signer-1.test:7443', 'https://signer-1.test:7443/'] }, 'TOO_FEW_PARTICIPANTS'],
    [{ msg_b64: '', signer_urls: [] }, 'INVALID_REQUEST'],
  ])('refuses %j with %s', async (body, expected) => {
    expect(await code(body)).toBe(expected);
  });
});

describe('participantId', () => {
  it('is the number up to 65535 and the hex identifier above', () => {
    expect(participantId(Identifier.fromNumber(65535))).toBe(65535);
    const big = Identifier.fromBytes(Uint8Array.from([0, 0, 1, ...new Array<number>(29).fill(0)]));
    expect(participantId(big)).toBe(big.toHex());
  });
});
