import { describe, expect, it } from '@jest/globals';
import { EnvReader } from '../src/env.js';
import { ConfigError } from '../src/errors.js';

/** A reader with prefix SIGNER_ over exactly these variables. */
const reader = (vars: Record<string, string | undefined> = {}) => new EnvReader(vars, 'SIGNER_');

/** The ConfigError message `fn` throws (fails the test when it throws nothing or something else). */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('INVALID_CONFIG');
    return (e as ConfigError).message;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('EnvReader', () => {
  it('name() is the prefixed variable name', () => {
    expect(reader().name('PORT')).toBe('SIGNER_PORT');
  });

  it('reads only prefixed variables', () => {
    expect(reader({ PORT: '1', SIGNER_PORT: '2' }).port('PORT', 0)).toBe(2);
    expect(reader({ PORT: '1' }).port('PORT', 7)).toBe(7);
  });

  describe('string', () => {
    it('returns the value trimmed', () => {
      expect(reader({ SIGNER_KEY_DIR: '  /keys \n' }).string('KEY_DIR')).toBe('/keys');
    });

    it('uses the fallback when unset, empty or blank', () => {
      for (const v of [undefined, '', '   ', '\t\n']) expect(reader({ SIGNER_KEY_DIR: v }).string('KEY_DIR', '/default')).toBe('/default');
    });

    it('is required without a fallback, and the message names the variable', () => {
      expect(configError(() => reader().string('KEY_DIR'))).toBe('SIGNER_KEY_DIR is required');
      expect(configError(() => reader({ SIGNER_KEY_DIR: '  ' }).string('KEY_DIR'))).toBe('SIGNER_KEY_DIR is required');
    });
  });

  describe('optionalString', () => {
    it('returns the trimmed value, or undefined when unset, empty or blank', () => {
      expect(reader({ SIGNER_X: ' v ' }).optionalString('X')).toBe('v');
      for (const v of [undefined, '', '  ']) expect(reader({ SIGNER_X: v }).optionalString('X')).toBeUndefined();
    });
  });

  describe('int', () => {
    it('parses decimal integers, trimmed, including negatives and the bounds', () => {
      expect(reader({ SIGNER_N: ' 42 ' }).int('N', 0, 0, 100)).toBe(42);
      expect(reader({ SIGNER_N: '-5' }).int('N', 0, -10, 10)).toBe(-5);
      expect(reader({ SIGNER_N: '1' }).int('N', 5, 1, 10)).toBe(1);
      expect(reader({ SIGNER_N: '10' }).int('N', 5, 1, 10)).toBe(10);
      expect(reader({ SIGNER_N: '007' }).int('N', 5, 1, 10)).toBe(7);
    });

    it('uses the fallback when unset or empty', () => {
      for (const v of [undefined, '', ' ']) expect(reader({ SIGNER_N: v }).int('N', 5, 1, 10)).toBe(5);
    });

    it.each(['1.5', '1e3', '0x10', '12abc', 'ten', '+3', '1 000', '--1'])('refuses "%s" with a message naming the variable and the value', (v) => {
      expect(configError(() => reader({ SIGNER_N: v }).int('N', 5, -100, 10_000))).toBe(`SIGNER_N must be an integer, got "${v}"`);
    });

    it('refuses values out of range with the range in the message', () => {
      expect(configError(() => reader({ SIGNER_N: '11' }).int('N', 5, 1, 10))).toBe('SIGNER_N must be between 1 and 10, got 11');
      expect(configError(() => reader({ SIGNER_N: '0' }).int('N', 5, 1, 10))).toBe('SIGNER_N must be between 1 and 10, got 0');
      expect(configError(() => reader({ SIGNER_N: '99999999999999999999' }).int('N', 5, 1, 10))).toMatch(/^SIGNER_N must be between 1 and 10, got /);
    });
  });

  describe('bool', () => {
    it.each(['1', 'true', 'TRUE', 'True', 'yes', 'YES', 'on', ' on '])('"%s" is true', (v) => {
      expect(reader({ SIGNER_B: v }).bool('B', false)).toBe(true);
    });

    it.each(['0', 'false', 'FALSE', 'no', 'No', 'off', ' off '])('"%s" is false', (v) => {
      expect(reader({ SIGNER_B: v }).bool('B', true)).toBe(false);
    });

    it('uses the fallback when unset or empty', () => {
      expect(reader().bool('B', true)).toBe(true);
      expect(reader({ SIGNER_B: '' }).bool('B', false)).toBe(false);
    });

    it.each(['2', 'y', 'enabled', 'truee', 'yes please'])('refuses "%s" naming the variable', (v) => {
      expect(configError(() => reader({ SIGNER_B: v }).bool('B', false))).toBe(`SIGNER_B must be true or false, got "${v}"`);
    });
  });

  describe('list', () => {
    it('splits on commas, trims entries and drops empty ones', () => {
      expect(reader({ SIGNER_L: ' a, b ,,c , ' }).list('L')).toEqual(['a', 'b', 'c']);
      expect(reader({ SIGNER_L: 'DNS:coordinator' }).list('L')).toEqual(['DNS:coordinator']);
    });

    it('uses the fallback (default []) when unset or empty', () => {
      expect(reader().list('L')).toEqual([]);
      expect(reader({ SIGNER_L: ' ' }).list('L', ['x'])).toEqual(['x']);
    });

    it('a value of only commas is an empty list, not the fallback', () => {
      expect(reader({ SIGNER_L: ', ,' }).list('L', ['x'])).toEqual([]);
    });
  });

  describe('oneOf', () => {
    const modes = ['native', 'sodium', 'noble'] as const;

    it('returns an allowed value (trimmed) or the fallback', () => {
      expect(reader({ SIGNER_M: ' sodium ' }).oneOf('M', modes, 'native')).toBe('sodium');
      expect(reader().oneOf('M', modes, 'noble')).toBe('noble');
      expect(reader({ SIGNER_M: '' }).oneOf('M', modes, 'noble')).toBe('noble');
    });

    it('refuses another value, case-sensitively, listing the allowed ones', () => {
      expect(configError(() => reader({ SIGNER_M: 'Native' }).oneOf('M', modes, 'native'))).toBe('SIGNER_M must be one of native, sodium, noble, got "Native"');
    });
  });

  describe('port', () => {
    it('accepts 0..65535, 0 meaning "any free port"', () => {
      expect(reader({ SIGNER_PORT: '0' }).port('PORT', 1)).toBe(0);
      expect(reader({ SIGNER_PORT: '65535' }).port('PORT', 1)).toBe(65535);
      expect(reader().port('PORT', 7443)).toBe(7443);
    });

    it('refuses ports out of range or not integers', () => {
      expect(configError(() => reader({ SIGNER_PORT: '65536' }).port('PORT', 1))).toBe('SIGNER_PORT must be between 0 and 65535, got 65536');
      expect(configError(() => reader({ SIGNER_PORT: '-1' }).port('PORT', 1))).toBe('SIGNER_PORT must be between 0 and 65535, got -1');
      expect(configError(() => reader({ SIGNER_PORT: 'http' }).port('PORT', 1))).toBe('SIGNER_PORT must be an integer, got "http"');
    });
  });
});
