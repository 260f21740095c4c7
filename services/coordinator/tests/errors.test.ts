// The public error table and the one mapping of other errors into it.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { BodyError, ClientAuthError } from '@hoarfrost/runtime';
import { ApiError, STATUS, toApiError } from '../src/errors.js';

describe('API errors', () => {
  it('every code has a 4xx or 5xx status, and an ApiError reports its code\'s status', () => {
    for (const [code, status] of Object.entries(STATUS)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(status >= 400 && status < 600).toBe(true);
      expect(new ApiError(code as keyof typeof STATUS, 'm').status).toBe(status);
    }
  });

  it('maps client-certificate and body errors by code, and anything else to INTERNAL without its message', () => {
    expect(toApiError(new ClientAuthError('CLIENT_IDENTITY_NOT_ALLOWED', 'x')).status).toBe(403);
    expect(toApiError(new BodyError('PAYLOAD_TOO_LARGE', 'x')).code).toBe('PAYLOAD_TOO_LARGE');
    expect(toApiError(new BodyError('BODY_UNREADABLE', 'x')).code).toBe('INVALID_REQUEST');
    const internal = toApiError(new Error('secret detail at /etc/frost/keys'));
    expect(internal.code).toBe('INTERNAL');
    expect(internal.message).toBe('internal error');
    const same = new ApiError('THROTTLED', 'slow down', { culprits: [2] });
    expect(toApiError(same)).toBe(same);
  });

  // Regression: the OpenAPI document's code list lacked AUDIT_UNAVAILABLE, which the API answers.
  it('the OpenAPI document lists exactly the codes of the table', () => {
    const doc = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')) as {
      components: { schemas: { Error: { properties: { error: { properties: { code: { enum: string[] } } } } } } };
    };
    expect([...doc.components.schemas.Error.properties.error.properties.code.enum].sort()).toEqual(Object.keys(STATUS).sort());
  });
});
