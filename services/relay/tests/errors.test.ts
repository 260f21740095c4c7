// The relay's one status table, and the frostd error bodies its clients parse.
import { describe, expect, it } from '@jest/globals';
import { BodyError } from '@hoarfrost/runtime';
import { FROSTD_VARIANTS, RelayError, STATUS, UNKNOWN_ERROR_NUMBER, WIRE, errorBody, toRelayError, type RelayErrorCode } from '../src/errors.js';

const codes = Object.keys(STATUS) as RelayErrorCode[];
const frostdNames = Object.keys(FROSTD_VARIANTS);

describe('relay errors', () => {
  it('every code has a status and a wire variant; frostd variants are 500 with their numbers', () => {
    expect(Object.keys(WIRE).sort()).toEqual([...codes].sort());
    for (const code of codes) {
      const body = errorBody(new RelayError(code, 'detail'));
      expect(body.reason).toBe(code);
      expect(body.error.code).toBe(WIRE[code]);
      if (frostdNames.includes(WIRE[code])) {
        // frost-client parses an error body only on a 500.
        expect({ code, status: STATUS[code] }).toEqual({ code, status: 500 });
        expect(body.code).toBe(FROSTD_VARIANTS[WIRE[code] as keyof typeof FROSTD_VARIANTS]);
      } else {
        expect(body.code).toBe(UNKNOWN_ERROR_NUMBER);
        expect(frostdNames).not.toContain(body.error.code);
      }
    }
  });

  it('uses the statuses of frostd\'s HTTP stack for transport refusals', () => {
    expect({ json: STATUS.INVALID_JSON, shape: STATUS.UNPROCESSABLE_JSON, type: STATUS.UNSUPPORTED_MEDIA_TYPE, path: STATUS.NOT_FOUND, method: STATUS.METHOD_NOT_ALLOWED, size: STATUS.PAYLOAD_TOO_LARGE }).toEqual({
      json: 400,
      shape: 422,
      type: 415,
      path: 404,
      method: 405,
      size: 413,
    });
    expect(STATUS.THROTTLED).toBe(429);
    for (const code of ['SHUTTING_DOWN', 'STORE_UNAVAILABLE', 'CHALLENGES_EXHAUSTED'] as const) expect(STATUS[code]).toBe(503);
  });

  it('serializes as frostd does: InvalidArgument carries its text in `err`, the others only their tag', () => {
    expect(errorBody(new RelayError('INVALID_ARGUMENT', 'pubkey'))).toEqual({ code: 1, msg: 'invalid or missing argument: pubkey', error: { code: 'InvalidArgument', err: 'pubkey' }, reason: 'INVALID_ARGUMENT' });
    expect(errorBody(new RelayError('UNAUTHORIZED', 'unknown token'))).toEqual({ code: 2, msg: 'client did not provide proper authorization credentials', error: { code: 'Unauthorized' }, reason: 'UNAUTHORIZED' });
    expect(errorBody(new RelayError('SESSION_QUEUE_FULL', 'queue full'))).toMatchObject({ code: 1, error: { code: 'InvalidArgument', err: 'queue full' } });
    // A refusal's detail never names the token: only the caller's own argument names reach the body.
    expect(JSON.stringify(errorBody(new RelayError('UNAUTHORIZED', 'unknown or expired token')))).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}/);
  });

  it('maps body errors by code and anything else to INTERNAL without its message', () => {
    expect(toRelayError(new BodyError('PAYLOAD_TOO_LARGE', 'x')).code).toBe('PAYLOAD_TOO_LARGE');
    expect(toRelayError(new BodyError('BODY_TIMEOUT', 'x')).code).toBe('REQUEST_TIMEOUT');
    expect(toRelayError(new BodyError('BODY_UNREADABLE', 'x')).code).toBe('INVALID_JSON');
    const internal = toRelayError(new Error('secret path /etc/relay/key.pem'));
    expect(internal.code).toBe('INTERNAL');
    expect(JSON.stringify(errorBody(internal))).not.toMatch(/secret|key\.pem/);
  });
});
