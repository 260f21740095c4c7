import { describe, expect, it } from '@jest/globals';
import {
  InvalidArgumentError,
  RpcError,
  SignerCallError,
  TokenError,
  WireFormatError,
  errorClasses,
} from '../src/errors.js';

// One row per concrete class: how to build it and the code and name callers switch on. The services
// map `code` to HTTP statuses, so a renamed code silently breaks their tables.
const table = [
  { cls: InvalidArgumentError, make: () => new InvalidArgumentError('bad option'), code: 'INVALID_ARGUMENT', name: 'InvalidArgumentError' },
  { cls: TokenError, make: () => new TokenError('TOKEN_EXPIRED', 'bad option'), code: 'TOKEN_EXPIRED', name: 'TokenError' },
  { cls: WireFormatError, make: () => new WireFormatError('MALFORMED_CBOR', 'bad option'), code: 'MALFORMED_CBOR', name: 'WireFormatError' },
  { cls: SignerCallError, make: () => new SignerCallError('signer-1', 'SIGNER_TIMEOUT', 'bad option'), code: 'SIGNER_TIMEOUT', name: 'SignerCallError' },
] as const;

describe('rpc errors', () => {
  it('the table covers every class of errorClasses', () => {
    expect(new Set(table.map((row) => row.cls))).toEqual(new Set(errorClasses));
    expect(table).toHaveLength(errorClasses.length);
  });

  it.each(table.map((row) => [row.name, row] as const))('%s is an RpcError and an Error with a stable code and name', (_name, row) => {
    const e = row.make();
    expect(e).toBeInstanceOf(row.cls);
    expect(e).toBeInstanceOf(RpcError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(row.code);
    expect(e.name).toBe(row.name);
    expect(e.message).toBe('bad option');
    // The name shows in stack traces and in String(e), which is what ends up in logs.
    expect(String(e)).toBe(`${row.name}: bad option`);
  });

  it('SignerCallError carries the signer id and the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new SignerCallError('signer-2', 'SIGNER_UNREACHABLE', 'no route', { cause });
    expect(e.signer).toBe('signer-2');
    expect(e.cause).toBe(cause);
    expect(e.code).toBe('SIGNER_UNREACHABLE');
  });

  it('RpcError keeps its code and cause', () => {
    const cause = new Error('inner');
    const e = new RpcError('SOMETHING', 'outer', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('RpcError');
    expect(e.code).toBe('SOMETHING');
    expect(e.cause).toBe(cause);
  });
});
