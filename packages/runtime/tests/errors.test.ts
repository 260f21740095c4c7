import { describe, expect, it } from '@jest/globals';
import { AuditError, BodyError, ClientAuthError, ConfigError, RuntimeError, errorClasses } from '../src/errors.js';

// One row per concrete class and code: the services' status tables switch on these codes, so a
// renamed code or a lost base class silently changes an HTTP status.
const table = [
  { cls: ConfigError, make: () => new ConfigError('X is required'), code: 'INVALID_CONFIG', name: 'ConfigError' },
  { cls: ClientAuthError, make: () => new ClientAuthError('CLIENT_CERT_REQUIRED', 'X is required'), code: 'CLIENT_CERT_REQUIRED', name: 'ClientAuthError' },
  { cls: ClientAuthError, make: () => new ClientAuthError('CLIENT_CERT_UNTRUSTED', 'X is required'), code: 'CLIENT_CERT_UNTRUSTED', name: 'ClientAuthError' },
  { cls: ClientAuthError, make: () => new ClientAuthError('CLIENT_IDENTITY_NOT_ALLOWED', 'X is required'), code: 'CLIENT_IDENTITY_NOT_ALLOWED', name: 'ClientAuthError' },
  { cls: BodyError, make: () => new BodyError('PAYLOAD_TOO_LARGE', 'X is required'), code: 'PAYLOAD_TOO_LARGE', name: 'BodyError' },
  { cls: BodyError, make: () => new BodyError('BODY_UNREADABLE', 'X is required'), code: 'BODY_UNREADABLE', name: 'BodyError' },
  { cls: BodyError, make: () => new BodyError('BODY_TIMEOUT', 'X is required'), code: 'BODY_TIMEOUT', name: 'BodyError' },
  { cls: AuditError, make: () => new AuditError('AUDIT_WRITE_FAILED', 'X is required'), code: 'AUDIT_WRITE_FAILED', name: 'AuditError' },
] as const;

describe('runtime errors', () => {
  it('the table covers every class of errorClasses', () => {
    expect(new Set(table.map((row) => row.cls))).toEqual(new Set(errorClasses));
  });

  it.each(table.map((row) => [`${row.name} ${row.code}`, row] as const))('%s is a RuntimeError and an Error with a stable code and name', (_label, row) => {
    const e = row.make();
    expect(e).toBeInstanceOf(row.cls);
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(row.code);
    expect(e.name).toBe(row.name);
    expect(e.message).toBe('X is required');
    expect(String(e)).toBe(`${row.name}: X is required`);
    expect(e.stack).toContain(row.name);
  });

  it('RuntimeError itself carries any code', () => {
    const e = new RuntimeError('SOME_CODE', 'm');
    expect(e.name).toBe('RuntimeError');
    expect(e.code).toBe('SOME_CODE');
    expect(e).toBeInstanceOf(Error);
  });
});
