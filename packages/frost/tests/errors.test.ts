import { describe, expect, it } from '@jest/globals';
import * as errors from '../src/errors.js';
import { FrostError, MalformedInputError, MissingFieldError, UnknownFieldError, errorClasses } from '../src/errors.js';

describe('error classes', () => {
  it.each(errorClasses.map((C) => [C.name, C] as const))('%s has a stable code, its name, and is a FrostError', (_n, C) => {
    const e = new C('message', { culprits: ['01'] });
    expect(e).toBeInstanceOf(FrostError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toMatch(/^[A-Z_]+$/);
    expect(e.name).toBe(C.name);
    expect(e.culprits).toEqual(['01']);
  });

  it('codes are unique', () => {
    const codes = errorClasses.map((C) => new C('x').code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('errorClasses lists every error class the module exports (services map codes from it)', () => {
    const exported = Object.values(errors).filter(
      (v): v is typeof FrostError => typeof v === 'function' && v.prototype instanceof FrostError,
    );
    expect(new Set<unknown>(errorClasses)).toEqual(new Set(exported));
  });

  it('culprits default to none, are copied and frozen; a cause is kept', () => {
    expect(new FrostError('x').culprits).toEqual([]);
    const list = ['aa'];
    const cause = new Error('underlying');
    const e = new FrostError('x', { culprits: list, cause });
    list.push('bb');
    expect(e.culprits).toEqual(['aa']);
    expect(Object.isFrozen(e.culprits)).toBe(true);
    expect(e.cause).toBe(cause);
    expect('cause' in new FrostError('x')).toBe(false);
  });

  it('field errors are malformed input, so one catch covers every decoding failure', () => {
    expect(new UnknownFieldError('x')).toBeInstanceOf(MalformedInputError);
    expect(new MissingFieldError('x')).toBeInstanceOf(MalformedInputError);
    expect(new MalformedInputError('x').code).toBe('MALFORMED_INPUT');
  });
});
