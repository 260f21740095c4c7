// How arguments deserialize: what frostd's serde types accept, and which refusal the rest gets.
import { describe, expect, it } from '@jest/globals';
import { RelayError } from '../src/errors.js';
import { argsObject, normalizeUuid, parseCreateSession, parseLogin, parseReceive, parseSend } from '../src/wire.js';

const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as RelayError).code;
  }
};
const id = '5f2a1d3c-0b4e-4c1a-9a7e-2f8d6b3c1e90';

describe('wire arguments', () => {
  it('reads the UUID forms of the uuid crate, as lowercase hyphenated text', () => {
    for (const form of [id, id.toUpperCase(), id.replace(/-/g, ''), `{${id}}`, `urn:uuid:${id}`]) expect(normalizeUuid(form)).toBe(id);
    for (const bad of ['', id.slice(1), `${id}0`, `{${id}`, id.replace(/-/, ''), `{${id.replace(/-/g, '')}}`, 'g'.repeat(32), `urn:uuid:{${id}}`]) expect(normalizeUuid(bad)).toBeUndefined();
  });

  it('hex in either case, lowercased; odd length or other characters do not deserialize', () => {
    expect(parseSend({ session_id: id, recipients: ['AB'], msg: 'C0FfEe' }, 10)).toEqual({ session_id: id, recipients: ['ab'], msg: 'c0ffee' });
    expect(code(() => parseSend({ session_id: id, recipients: [], msg: 'abc' }, 10))).toBe('UNPROCESSABLE_JSON');
    expect(code(() => parseSend({ session_id: id, recipients: [], msg: '0x00' }, 10))).toBe('UNPROCESSABLE_JSON');
    expect(code(() => parseSend({ session_id: id, recipients: [1], msg: '' }, 10))).toBe('UNPROCESSABLE_JSON');
    expect(code(() => parseSend({ session_id: id, recipients: ['00', '11', '22'], msg: '' }, 2))).toBe('TOO_MANY_MEMBERS');
  });

  it('missing fields and wrong types are UNPROCESSABLE_JSON; unknown fields are ignored', () => {
    expect(code(() => parseLogin({ challenge: id, pubkey: '00' }))).toBe('UNPROCESSABLE_JSON');
    expect(parseLogin({ challenge: id, pubkey: '00', signature: '11', extra: [1, 2] })).toEqual({ challenge: id, pubkey: '00', signature: '11' });
    expect(code(() => parseCreateSession({ pubkeys: [], message_count: 1.5 }, 10))).toBe('UNPROCESSABLE_JSON');
    expect(code(() => parseCreateSession({ pubkeys: [], message_count: 256 }, 10))).toBe('UNPROCESSABLE_JSON');
    expect(parseCreateSession({ pubkeys: [], message_count: 0 }, 10)).toEqual({ pubkeys: [], message_count: 0 });
    expect(code(() => parseReceive({ session_id: id, as_coordinator: 1 }))).toBe('UNPROCESSABLE_JSON');
    expect(parseReceive({ session_id: id, as_coordinator: true, wait_ms: null })).toEqual({ session_id: id, as_coordinator: true, wait_ms: undefined });
    expect(code(() => parseReceive({ session_id: id, as_coordinator: true, wait_ms: -5 }))).toBe('UNPROCESSABLE_JSON');
    for (const body of [null, [], 'x', 3]) expect(code(() => argsObject(body))).toBe('UNPROCESSABLE_JSON');
    // A key named like an Object property is just data.
    expect(code(() => parseLogin(JSON.parse('{"__proto__":{"challenge":"x"},"pubkey":"00","signature":"00"}') as Record<string, unknown>))).toBe('UNPROCESSABLE_JSON');
  });
});
