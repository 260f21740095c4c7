// The key-generation wire: canonical session parameters and their digest, strict parsers of the
// parameters, inner messages, requests and answers, and the domain separation of signed messages.
import { describe, expect, it } from '@jest/globals';
import {
  activationMessage,
  decodeCbor,
  decodeKeygenMessage,
  encodeCbor,
  encodeKeygenMessage,
  encodeKeygenParams,
  parseBeginAnswer,
  parseDealAnswer,
  parseEmptyAnswer,
  parseActivateRequest,
  parseKeygenParams,
  sessionDigest,
  signedData,
  type KeygenParams,
} from '@hoarfrost/rpc';

const id = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? n : 0));
const base: KeygenParams = {
  session_id: new Uint8Array(32).fill(5),
  kind: 'create',
  key_id: 'mint-2026',
  min_signers: 2,
  issued_at: 1_800_000_000,
  participants: [
    { identifier: id(1), signer: 'signer-1' },
    { identifier: id(2), signer: 'signer-2' },
    { identifier: id(3), signer: 'signer-3' },
  ],
};
const wire = (v: unknown) => decodeCbor(encodeCbor(v));

describe('session parameters', () => {
  it('have one encoding whatever the field order given, and it parses back to the same parameters', () => {
    const shuffled = { participants: base.participants.map((p) => ({ signer: p.signer, identifier: p.identifier })), issued_at: 1_800_000_000, min_signers: 2, key_id: 'mint-2026', kind: 'create', session_id: base.session_id } as KeygenParams;
    expect(Buffer.from(encodeKeygenParams(shuffled))).toEqual(Buffer.from(encodeKeygenParams(base)));
    const parsed = parseKeygenParams(wire(base));
    expect(Buffer.from(sessionDigest(parsed))).toEqual(Buffer.from(sessionDigest(base)));
    expect(Buffer.from(encodeKeygenParams(parseKeygenParams(decodeCbor(encodeKeygenParams(base)))))).toEqual(Buffer.from(encodeKeygenParams(base)));
  });

  it('the digest changes with every field', () => {
    const d = Buffer.from(sessionDigest(base)).toString('hex');
    const variants: KeygenParams[] = [
      { ...base, session_id: new Uint8Array(32).fill(6) },
      { ...base, key_id: 'other' },
      { ...base, min_signers: 3 },
      { ...base, issued_at: base.issued_at + 1 },
      { ...base, participants: base.participants.map((p, i) => (i === 2 ? { ...p, signer: 'signer-4' } : p)) },
      { ...base, participants: base.participants.slice(0, 2) },
      { ...base, kind: 'refresh', group_key: new Uint8Array(32).fill(1) },
    ];
    for (const v of variants) expect(Buffer.from(sessionDigest(v)).toString('hex')).not.toBe(d);
  });

  it.each<[string, Record<string, unknown>]>([
    ['unsorted participants', { participants: [base.participants[1], base.participants[0], base.participants[2]] }],
    ['an identifier twice', { participants: [base.participants[0], base.participants[0], base.participants[2]] }],
    ['a signer twice', { participants: base.participants.map((p) => ({ ...p, signer: 'signer-1' })) }],
    ['a threshold above n', { min_signers: 4 }],
    ['a threshold of 1', { min_signers: 1 }],
    ['a group key on create', { group_key: new Uint8Array(32) }],
    ['a refresh without group key', { kind: 'refresh' }],
    ['a short session id', { session_id: new Uint8Array(31) }],
    ['no issue time', { issued_at: undefined }],
    ['an issue time that is not a number', { issued_at: '1800000000' }],
    ['a negative issue time', { issued_at: -1 }],
    ['an unknown field', { extra: true }],
    ['a bad key id', { key_id: '../etc' }],
    ['a bad signer id', { participants: base.participants.map((p, i) => (i === 0 ? { ...p, signer: 'a b' } : p)) }],
  ])('refuses %s', (_, change) => {
    // A field changed to undefined is left out.
    const params = Object.fromEntries(Object.entries({ ...base, ...change }).filter(([, v]) => v !== undefined));
    expect(() => parseKeygenParams(wire(params))).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });
});

describe('messages', () => {
  const m = { type: 'round2' as const, session: new Uint8Array(32).fill(1), sender: id(1), recipient: id(2), enc: new Uint8Array(32).fill(3), ciphertext: new Uint8Array(48).fill(4) };

  it('round-trip, and refuse another type, an extra field or a wrong length', () => {
    expect(decodeKeygenMessage('round2', encodeKeygenMessage(m))).toEqual({ ...m });
    expect(() => decodeKeygenMessage('round1', encodeKeygenMessage(m))).toThrow();
    expect(() => decodeKeygenMessage('round2', encodeCbor({ ...m, x: 1 }))).toThrow(/unknown field/);
    expect(() => decodeKeygenMessage('round2', encodeKeygenMessage({ ...m, enc: new Uint8Array(31) }))).toThrow(/enc must be 32 bytes/);
  });

  it('a signature covers the type: the same body signed as one type is other bytes than as another', () => {
    const body = encodeKeygenMessage(m);
    expect(Buffer.from(signedData('round2', body))).not.toEqual(Buffer.from(signedData('confirm', body)));
    expect(Buffer.from(signedData('round2', body)).subarray(0, 24).toString()).toBe('hoarfrost-dkg-v1/round2\0');
  });

  it('an activation request names the key it activates (a pending key is found by its id without a live session)', () => {
    const req = { session: new Uint8Array(32).fill(1), key_id: 'mint-2026', signature: new Uint8Array(64).fill(2) };
    expect(parseActivateRequest(wire(req))).toEqual(req);
    expect(() => parseActivateRequest(wire({ session: req.session, signature: req.signature }))).toThrow(/missing field "key_id"/);
  });

  it('the activation message binds the session and the public key package', () => {
    const a = activationMessage(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
    expect(Buffer.from(a).subarray(0, 27).toString()).toBe('hoarfrost-key-activation-v1');
    expect(a.length).toBe(27 + 64);
  });
});

describe('answers', () => {
  const signed = { body: new Uint8Array([1]), cert: new Uint8Array([2]), sig: new Uint8Array([3]) };

  it('parse ok and abort, and refuse anything else', () => {
    expect(parseBeginAnswer(wire({ ok: { round1: signed } }))).toEqual({ ok: { round1: signed } });
    const abort = { code: 'DKG_EQUIVOCATION', message: 'x', culprits: ['signer-2'], relay_fault: false };
    expect(parseEmptyAnswer(wire({ abort }))).toEqual({ abort });
    expect(() => parseEmptyAnswer(wire({ abort: { ...abort, code: 'SOMETHING' } }))).toThrow();
    expect(() => parseEmptyAnswer(wire({ abort: { ...abort, culprits: ['no such id!'] } }))).toThrow();
    expect(() => parseEmptyAnswer(wire({ ok: { extra: 1 } }))).toThrow();
    expect(() => parseDealAnswer(wire({ ok: { round2: [signed] } }), 2)).toThrow(/2\.\.2/);
    expect(() => parseBeginAnswer(wire({ ok: { round1: { ...signed, body: new Uint8Array(0) } } }))).toThrow();
  });
});
